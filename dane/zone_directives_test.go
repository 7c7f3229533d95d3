package dane

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// TestParseZoneGenerate checks that ParseZone rejects $GENERATE, whose
// line of about 120 bytes expands to 65,536 records in miekg/dns, and
// $INCLUDE, in every form the miekg/dns lexer takes for a directive.
func TestParseZoneGenerate(t *testing.T) {
	t.Parallel()
	const digest = "0c72ac70b745ac19998811b131d662c9ac69dbdbe7cb23e5b514b56664c5d3d6"
	record := "_25._tcp.mx.example.net. IN TLSA 3 1 1 " + digest + "\n"
	tests := []struct {
		name     string
		text     string
		wantLine int
		// wantDirective is the directive the message must name.
		wantDirective string
	}{
		{"$GENERATE", "$GENERATE 0-65535 _25._tcp.mx$.example.net. IN TLSA 3 1 1 " + digest + "\n",
			1, "$GENERATE"},
		{"$GENERATE after records", record + record + "$GENERATE 1-2 mx$. TLSA 3 1 1 00\n", 3, "$GENERATE"},
		{"lower case", "$generate 1-2 mx$. TLSA 3 1 1 00\n", 1, "$GENERATE"},
		{"split by parentheses across lines", record + "$Gen(\nerate) 1-3 a$. IN TLSA 3 1 1 00\n",
			2, "$GENERATE"},
		{"carriage return inside", "$GENE\rRATE 1-3 a$. IN TLSA 3 1 1 00\n", 1, "$GENERATE"},
		{"indented", " $GENERATE 1-3 a$. IN TLSA 3 1 1 00\n", 1, "$GENERATE"},
		{"in a comment", record + "; made with $GENERATE\n", 2, "$GENERATE"},
		{"$INCLUDE", "$INCLUDE /etc/hostname\n", 1, "$INCLUDE"},
		// strings.ToUpper maps the dotless i, U+0131, to I.
		{"$INCLUDE with a dotless i", record + "$\u0131nclude /etc/hostname\n", 2, "$INCLUDE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			records, err := ParseZone(strings.NewReader(tt.text), "records.txt")
			if err == nil {
				t.Fatalf("ParseZone(%q) returned %d records and no error, want an error", tt.text, len(records))
			}
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("ParseZone() error %v (%T) is not a *ParseError", err, err)
			}
			if pe.Line != tt.wantLine {
				t.Errorf("ParseError.Line = %d, want %d", pe.Line, tt.wantLine)
			}
			want := fmt.Sprintf("dane: records.txt:%d: %s is not allowed", tt.wantLine, tt.wantDirective)
			if !strings.HasPrefix(err.Error(), want) {
				t.Errorf("ParseZone() error = %q, want it to start with %q", err, want)
			}
		})
	}
}

// TestParseZoneDirectivesAllowed checks that the directives dig and zone
// files use still work, and that a word that only starts like a rejected
// directive is not taken for one.
func TestParseZoneDirectivesAllowed(t *testing.T) {
	t.Parallel()
	text := "$ORIGIN example.net.\n$TTL 300\n_25._tcp.mx IN TLSA 3 1 1 00\n; $GENERATOR is no directive\n"
	records, err := ParseZone(strings.NewReader(text), "records.txt")
	if err != nil {
		t.Fatalf("ParseZone(%q) = %v", text, err)
	}
	if len(records) != 1 || records[0].Hdr.Name != "_25._tcp.mx.example.net." || records[0].Hdr.Ttl != 300 {
		t.Errorf("ParseZone(%q) = %v, want one record for _25._tcp.mx.example.net. with TTL 300",
			text, records)
	}
}

// TestParseZoneRecordLimit checks that ParseZone reads up to
// maxZoneRecords records, and no more.
func TestParseZoneRecordLimit(t *testing.T) {
	t.Parallel()
	line := "a. IN TLSA 3 1 1 00\n"
	records, err := ParseZone(strings.NewReader(strings.Repeat(line, maxZoneRecords)), "records.txt")
	if err != nil || len(records) != maxZoneRecords {
		t.Errorf("ParseZone(%d records) = %d records, %v, want them all", maxZoneRecords, len(records), err)
	}

	_, err = ParseZone(strings.NewReader(strings.Repeat(line, maxZoneRecords+1)), "records.txt")
	want := fmt.Sprintf("dane: records.txt: more than %d records", maxZoneRecords)
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("ParseZone(%d records) = %v, want an error starting with %q", maxZoneRecords+1, err, want)
	}
}

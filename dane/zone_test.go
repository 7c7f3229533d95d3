package dane

import (
	"errors"
	"strings"
	"testing"
	"testing/iotest"
)

func TestParseZone(t *testing.T) {
	t.Parallel()
	const digest = "0c72ac70b745ac19998811b131d662c9ac69dbdbe7cb23e5b514b56664c5d3d6"
	tests := []struct {
		name string
		text string
		// want is each record's owner and data fields.
		want []string
	}{
		{"dig output", "_25._tcp.mx.example.net. 3600 IN TLSA 3 1 1 " + digest + "\n",
			[]string{"_25._tcp.mx.example.net. 3 1 1 " + digest}},
		{"no TTL, no class, no final newline", "_25._tcp.mx.example.net. TLSA 3 1 1 " + digest,
			[]string{"_25._tcp.mx.example.net. 3 1 1 " + digest}},
		{"comments and blank lines", "; records of mx\n\n_25._tcp.mx.example.net. IN TLSA 3 1 1 " +
			digest + " ; current key\n\n; end\n",
			[]string{"_25._tcp.mx.example.net. 3 1 1 " + digest}},
		{"data split over lines in parentheses", "_25._tcp.mx.example.net. IN TLSA 2 1 1 (\n  " +
			digest[:32] + "\n  " + digest[32:] + " )\n",
			[]string{"_25._tcp.mx.example.net. 2 1 1 " + digest}},
		{"data split by blanks", "_25._tcp.mx.example.net. IN TLSA 3 1 1 " + digest[:32] + " " + digest[32:],
			[]string{"_25._tcp.mx.example.net. 3 1 1 " + digest}},
		{"$ORIGIN and relative owners", "$ORIGIN example.net.\n$TTL 300\n_25._tcp.mx IN TLSA 3 1 1 " +
			digest + "\n     IN TLSA 1 1 1 " + digest + "\n",
			[]string{"_25._tcp.mx.example.net. 3 1 1 " + digest, "_25._tcp.mx.example.net. 1 1 1 " + digest}},
		{"unusable records kept", "a. IN TLSA 3 1 1 abcd\nb. IN TLSA 7 7 7 " + digest + "\nc. IN TLSA 3 1 1\n",
			[]string{"a. 3 1 1 abcd", "b. 7 7 7 " + digest, "c. 3 1 1 "}},
		{"upper-case hexadecimal", "a. IN TLSA 3 1 1 " + strings.ToUpper(digest),
			[]string{"a. 3 1 1 " + strings.ToUpper(digest)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			records, err := ParseZone(strings.NewReader(tt.text), "records.txt")
			if err != nil {
				t.Fatalf("ParseZone() = %v", err)
			}
			var got []string
			for _, rr := range records {
				got = append(got, rr.Hdr.Name+" "+Record{TLSA: rr}.String())
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("ParseZone() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestParseZoneErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		text       string
		wantLine   int
		wantRecord int
		// wantMsg is text that the error message must contain.
		wantMsg string
	}{
		{"empty", "", 0, 0, "dane: records.txt: no TLSA records found; a TLSA line has the form"},
		{"only comments", "; nothing\n\n", 0, 0, "no TLSA records found"},
		{"bad selector on line 3", "; x\na. IN TLSA 3 1 1 abcd\nb. IN TLSA 3 x 1 abcd\n", 3, 0,
			`dane: records.txt:3: bad TLSA Selector: "x"; a TLSA line has the form`},
		{"garbage", "this is not a zone file\n", 1, 0, "records.txt:1: "},
		{"another type", "a. IN TLSA 3 1 1 abcd\nmx.example.net. IN A 192.0.2.1\n", 0, 2,
			"dane: records.txt: record 2: mx.example.net. has type A, but only TLSA records are allowed"},
		{"RRSIG from dig +dnssec", "a. IN TLSA 3 1 1 abcd\na. IN RRSIG TLSA 13 1 300 20260701000000 " +
			"20260601000000 12345 . c2lnbmF0dXJl\n", 0, 2, "a. has type RRSIG"},
		{"class CH", "a. CH TLSA 3 1 1 abcd\n", 0, 1, "a. TLSA 3 1 1 abcd has class CH"},
		{"data not hexadecimal", "a. IN TLSA 3 1 1 abcd\nb. IN TLSA 3 1 1 zz\n", 0, 2,
			"b. TLSA 3 1 1 zz: the certificate association data is not hexadecimal"},
		{"odd number of digits", "a. IN TLSA 3 1 1 abc\n", 0, 1, "not hexadecimal"},
		{"$INCLUDE", "$INCLUDE /etc/passwd\n", 1, 0, "records.txt:1: "},
		{"unclosed parenthesis", "a. IN TLSA 3 1 1 ( abcd\n", 0, 0, "records.txt"},
		{"too large", strings.Repeat(";", maxZoneSize+1), 0, 0, "larger than 1048576 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			records, err := ParseZone(strings.NewReader(tt.text), "records.txt")
			if err == nil {
				t.Fatalf("ParseZone() = %d records, want an error", len(records))
			}
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("ParseZone() error %v (%T) is not a *ParseError", err, err)
			}
			if pe.File != "records.txt" {
				t.Errorf("ParseError.File = %q, want records.txt", pe.File)
			}
			if tt.wantLine != 0 && pe.Line != tt.wantLine {
				t.Errorf("ParseError.Line = %d, want %d", pe.Line, tt.wantLine)
			}
			if pe.Record != tt.wantRecord {
				t.Errorf("ParseError.Record = %d, want %d", pe.Record, tt.wantRecord)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("ParseZone() error = %q, want it to contain %q", err, tt.wantMsg)
			}
		})
	}
}

func TestParseZoneReadError(t *testing.T) {
	t.Parallel()
	_, err := ParseZone(iotest.ErrReader(errors.New("disk on fire")), "records.txt")
	if err == nil || err.Error() != "dane: records.txt: disk on fire" {
		t.Errorf("ParseZone(failing reader) = %v, want %q", err, "dane: records.txt: disk on fire")
	}
}

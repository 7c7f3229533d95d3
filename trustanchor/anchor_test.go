package trustanchor

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/miekg/dns"
)

// testdata is the folder of this package's fixtures.
const testdata = "../testdata/trustanchor"

// summary is the part of an Anchor that tables compare.
type summary struct {
	Type       string
	Owner      string
	KeyTag     uint16
	Algorithm  uint8
	DigestType uint8 // DS only
	Source     string
}

func summarize(anchors []Anchor) []summary {
	var out []summary
	for _, a := range anchors {
		s := summary{Owner: a.Owner(), KeyTag: a.KeyTag(), Algorithm: a.Algorithm(), Source: a.Source}
		switch {
		case a.DS != nil && a.DNSKEY != nil:
			s.Type = "DS and DNSKEY"
		case a.DS != nil:
			s.Type = "DS"
			s.DigestType = a.DS.DigestType
		case a.DNSKEY != nil:
			s.Type = "DNSKEY"
		}
		out = append(out, s)
	}
	return out
}

// mustRR parses one record in presentation form.
func mustRR(t *testing.T, s string) dns.RR {
	t.Helper()
	rr, err := dns.NewRR(s)
	if err != nil {
		t.Fatalf("dns.NewRR(%q): %v", s, err)
	}
	return rr
}

// writeFile writes content to a new file in a temporary folder and returns
// its path.
func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// requireParseError checks that err is a *ParseError for file with the
// given line and a message containing text.
func requireParseError(t *testing.T, err error, file string, line int, text string) {
	t.Helper()
	var pe *ParseError
	if !errors.As(err, &pe) {
		t.Fatalf("error = %v (%T), want a *ParseError", err, err)
	}
	if pe.File != file {
		t.Errorf("ParseError.File = %q, want %q", pe.File, file)
	}
	if pe.Line != line {
		t.Errorf("ParseError.Line = %d, want %d (error: %v)", pe.Line, line, err)
	}
	if !strings.Contains(err.Error(), text) {
		t.Errorf("error = %q, want it to contain %q", err, text)
	}
}

const (
	rootDS2017 = ". IN DS 20326 8 2 E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D"
	labKSK     = "Example.TEST. IN DNSKEY 257 3 13 " +
		"bzQeRtrCzgWLs4hY7vChNuGhP3txBB8IWw4HA3S7Ly2xFfJfphrYdY0/YV+UajswY3zYYZIwiLZP1B4tS+lJRA=="
)

func TestAnchorAccessors(t *testing.T) {
	tests := []struct {
		name          string
		anchor        Anchor
		wantOwner     string
		wantKeyTag    uint16
		wantAlgorithm uint8
		wantString    string
	}{
		{
			name:          "root DS",
			anchor:        Anchor{DS: mustRR(t, rootDS2017).(*dns.DS)},
			wantOwner:     ".",
			wantKeyTag:    20326,
			wantAlgorithm: 8,
			wantString: ". IN DS 20326 8 2 " +
				"E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D",
		},
		{
			name:          "DNSKEY with mixed-case owner",
			anchor:        Anchor{DNSKEY: mustRR(t, labKSK).(*dns.DNSKEY)},
			wantOwner:     "example.test.",
			wantKeyTag:    53212,
			wantAlgorithm: 13,
			wantString: "example.test. IN DNSKEY 257 3 13 " +
				"bzQeRtrCzgWLs4hY7vChNuGhP3txBB8IWw4HA3S7Ly2xFfJfphrYdY0/YV+UajswY3zYYZIwiLZP1B4tS+lJRA==",
		},
		{
			name: "DS with validity period",
			anchor: Anchor{
				DS:         mustRR(t, rootDS2017).(*dns.DS),
				ValidFrom:  time.Date(2017, 2, 2, 0, 0, 0, 0, time.UTC),
				ValidUntil: time.Date(2030, 1, 1, 1, 0, 0, 0, time.FixedZone("CET", 3600)),
			},
			wantOwner:     ".",
			wantKeyTag:    20326,
			wantAlgorithm: 8,
			wantString: ". IN DS 20326 8 2 " +
				"E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D" +
				" ; valid from 2017-02-02T00:00:00Z, valid until 2030-01-01T00:00:00Z",
		},
		{
			name:       "empty anchor",
			anchor:     Anchor{},
			wantString: "<empty trust anchor>",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.anchor.Owner(); got != tt.wantOwner {
				t.Errorf("Owner() = %q, want %q", got, tt.wantOwner)
			}
			if got := tt.anchor.KeyTag(); got != tt.wantKeyTag {
				t.Errorf("KeyTag() = %d, want %d", got, tt.wantKeyTag)
			}
			if got := tt.anchor.Algorithm(); got != tt.wantAlgorithm {
				t.Errorf("Algorithm() = %d, want %d", got, tt.wantAlgorithm)
			}
			if got := tt.anchor.String(); got != tt.wantString {
				t.Errorf("String() = %q, want %q", got, tt.wantString)
			}
		})
	}
}

func TestValidAt(t *testing.T) {
	from := time.Date(2017, 2, 2, 0, 0, 0, 0, time.UTC)
	until := time.Date(2019, 1, 11, 0, 0, 0, 0, time.UTC)
	bounded := Anchor{ValidFrom: from, ValidUntil: until}
	tests := []struct {
		name   string
		anchor Anchor
		at     time.Time
		want   bool
	}{
		{"before ValidFrom", bounded, from.Add(-time.Second), false},
		{"at ValidFrom", bounded, from, true},
		{"inside", bounded, from.AddDate(1, 0, 0), true},
		{"just before ValidUntil", bounded, until.Add(-time.Nanosecond), true},
		{"at ValidUntil", bounded, until, false},
		{"after ValidUntil", bounded, until.AddDate(1, 0, 0), false},
		{"no bounds, far past", Anchor{}, time.Date(1990, 1, 1, 0, 0, 0, 0, time.UTC), true},
		{"no upper bound, far future", Anchor{ValidFrom: from}, from.AddDate(100, 0, 0), true},
		{"no lower bound, far past", Anchor{ValidUntil: until}, until.AddDate(-100, 0, 0), true},
		{"ValidFrom in another zone", bounded, from.In(time.FixedZone("", -3600)), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.anchor.ValidAt(tt.at); got != tt.want {
				t.Errorf("ValidAt(%v) = %v, want %v", tt.at, got, tt.want)
			}
		})
	}
}

func TestSelect(t *testing.T) {
	day := func(year int, month time.Month, d int) time.Time {
		return time.Date(year, month, d, 0, 0, 0, 0, time.UTC)
	}
	anchors := []Anchor{
		{Source: "old", ValidFrom: day(2010, 7, 15), ValidUntil: day(2019, 1, 11)},
		{Source: "current", ValidFrom: day(2017, 2, 2)},
		{Source: "next", ValidFrom: day(2024, 7, 18)},
		{Source: "unbounded"},
	}
	tests := []struct {
		name string
		at   time.Time
		want []string
	}{
		{"before every period", day(2000, 1, 1), []string{"unbounded"}},
		{"old only", day(2012, 1, 1), []string{"old", "unbounded"}},
		{"overlap", day(2018, 1, 1), []string{"old", "current", "unbounded"}},
		{"old expired", day(2019, 1, 11), []string{"current", "unbounded"}},
		{"after next starts", day(2025, 1, 1), []string{"current", "next", "unbounded"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, a := range Select(anchors, tt.at) {
				got = append(got, a.Source)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Select(anchors, %v) sources (-want +got):\n%s", tt.at, diff)
			}
		})
	}
	t.Run("none valid", func(t *testing.T) {
		if got := Select(anchors[:1], day(2020, 1, 1)); len(got) != 0 {
			t.Errorf("Select(old, 2020) = %v, want none", got)
		}
	})
}

func TestParseErrorMessage(t *testing.T) {
	cause := errors.New("DS digest is empty")
	tests := []struct {
		name string
		err  *ParseError
		want string
	}{
		{"with line", &ParseError{File: "/etc/x.anchor", Line: 3, Err: cause},
			"trustanchor: /etc/x.anchor:3: DS digest is empty"},
		{"whole file", &ParseError{File: "/etc/x.anchor", Err: cause},
			"trustanchor: /etc/x.anchor: DS digest is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("Error() = %q, want %q", got, tt.want)
			}
			if !errors.Is(tt.err, cause) {
				t.Errorf("errors.Is(%v, cause) = false, want true", tt.err)
			}
		})
	}
}

func TestLoad(t *testing.T) {
	tests := []struct {
		name string
		file string
		want []summary
	}{
		{
			name: "XML",
			file: "rfc9718-example.xml",
			want: []summary{
				{"DS", ".", 19036, 8, 2, testdata + "/rfc9718-example.xml:5"},
				{"DS", ".", 20326, 8, 2, testdata + "/rfc9718-example.xml:16"},
			},
		},
		{
			name: "zone lines",
			file: "ldns-keygen.key",
			want: []summary{{"DNSKEY", "example.test.", 53212, 13, 0, testdata + "/ldns-keygen.key:1"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := testdata + "/" + tt.file
			anchors, err := Load(path)
			if err != nil {
				t.Fatalf("Load(%s): %v", path, err)
			}
			if diff := cmp.Diff(tt.want, summarize(anchors)); diff != "" {
				t.Errorf("Load(%s) anchors (-want +got):\n%s", path, diff)
			}
		})
	}
}

func TestLoadDetectsXMLAfterWhiteSpace(t *testing.T) {
	xml, err := os.ReadFile(testdata + "/rfc9718-example.xml")
	if err != nil {
		t.Fatal(err)
	}
	path := writeFile(t, "anchors", "\xef\xbb\xbf\n\t  "+string(xml))
	anchors, err := Load(path)
	if err != nil {
		t.Fatalf("Load(BOM, blanks, XML): %v", err)
	}
	if len(anchors) != 2 {
		t.Errorf("Load(BOM, blanks, XML) = %d anchors, want 2", len(anchors))
	}
}

func TestLoadErrors(t *testing.T) {
	t.Run("missing file", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "absent.anchor")
		_, err := Load(path)
		if !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Load(missing) error = %v, want one wrapping fs.ErrNotExist", err)
		}
		var pe *ParseError
		if errors.As(err, &pe) {
			t.Errorf("Load(missing) error is a *ParseError, want a plain wrapped os error")
		}
		if !strings.HasPrefix(err.Error(), "trustanchor: ") || !strings.Contains(err.Error(), path) {
			t.Errorf("Load(missing) error = %q, want the package prefix and the path", err)
		}
	})
	t.Run("empty file", func(t *testing.T) {
		path := writeFile(t, "empty.anchor", "")
		_, err := Load(path)
		requireParseError(t, err, path, 0, "no DS or DNSKEY records found")
	})
	t.Run("too large", func(t *testing.T) {
		path := writeFile(t, "huge.anchor", strings.Repeat("; padding\n", maxInputSize/10+1))
		_, err := Load(path)
		requireParseError(t, err, path, 0, "larger than 1048576 bytes")
	})
	t.Run("bad line in XML file", func(t *testing.T) {
		path := writeFile(t, "bad.xml", "<TrustAnchor>\n<Zone>.</Zone>\n</TrustAnchor>\n")
		_, err := Load(path)
		requireParseError(t, err, path, 1, "no <KeyDigest> elements")
	})
}

// skipMissingTool skips the test because something from Debian is missing,
// unless MXCLIENT_REQUIRE_TOOLS=1, which CI sets after installing the tools.
func skipMissingTool(t *testing.T, format string, args ...any) {
	t.Helper()
	if os.Getenv("MXCLIENT_REQUIRE_TOOLS") == "1" {
		t.Fatalf(format+" (MXCLIENT_REQUIRE_TOOLS=1 turns this skip into a failure)", args...)
	}
	t.Skipf(format, args...)
}

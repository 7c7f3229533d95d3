package trustanchor

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// addSeeds adds every fixture whose name ends in one of suffixes.
func addSeeds(f *testing.F, suffixes ...string) {
	f.Helper()
	entries, err := os.ReadDir(testdata)
	if err != nil {
		f.Fatal(err)
	}
	for _, e := range entries {
		for _, suffix := range suffixes {
			if filepath.Ext(e.Name()) == suffix {
				data, err := os.ReadFile(filepath.Join(testdata, e.Name()))
				if err != nil {
					f.Fatal(err)
				}
				f.Add(data)
			}
		}
	}
}

// checkParseResult holds for both parsers: an error is a *ParseError, and
// success means at least one anchor, each with exactly one record.
func checkParseResult(t *testing.T, anchors []Anchor, err error) {
	t.Helper()
	if err != nil {
		var pe *ParseError
		if !errors.As(err, &pe) {
			t.Fatalf("error %v (%T) is not a *ParseError", err, err)
		}
		return
	}
	if len(anchors) == 0 {
		t.Fatal("nil error with no anchors")
	}
	for _, a := range anchors {
		if (a.DS == nil) == (a.DNSKEY == nil) {
			t.Fatalf("anchor %v has DS %v and DNSKEY %v, want exactly one", a.Source, a.DS, a.DNSKEY)
		}
		_ = a.String()
	}
}

func FuzzParseZone(f *testing.F) {
	addSeeds(f, ".ds", ".key", ".txt", ".zone")
	f.Add([]byte(rootDS2017 + "\n"))
	f.Add([]byte("$ORIGIN example.\n$TTL 1h\n@ IN DS 1 8 2 ( " + ianaRootAnchors[1].Digest + " )\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		anchors, err := ParseZone(bytes.NewReader(data), "fuzz")
		checkParseResult(t, anchors, err)
	})
}

func FuzzParseXML(f *testing.F) {
	addSeeds(f, ".xml")
	f.Add(rootAnchorsXML)
	f.Add([]byte(baseXML))
	f.Add([]byte(withKey(ksk2017Key, "257")))
	f.Fuzz(func(t *testing.T, data []byte) {
		anchors, err := ParseXML(bytes.NewReader(data), "fuzz")
		checkParseResult(t, anchors, err)
	})
}

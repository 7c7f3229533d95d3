package trustanchor

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/miekg/dns"
)

// ianaRootAnchors are the KeyDigest elements of IANA's root-anchors.xml:
// key tags, digests and validity periods.
var ianaRootAnchors = []xmlAnchor{
	{".", 19036, 8, 2, "49aac11d7b6f6446702e54a1607371607a1a41855200fd2ce1cdde32f24e8fb5",
		utc(2010, 7, 15), utc(2019, 1, 11), embeddedSource},
	{".", 20326, 8, 2, "e06d44b80b8f1d39a95c0b0d7c65d08458e880409bbc683457104237c7f8ec8d",
		utc(2017, 2, 2), time.Time{}, embeddedSource},
	{".", 38696, 8, 2, "683d2d0acb8c9b712a1948b27f741219298d0a450d612c483af444a4c0fb2b16",
		utc(2024, 7, 18), time.Time{}, embeddedSource},
}

func TestEmbedded(t *testing.T) {
	got := summarizeXML(t, Embedded())
	if diff := cmp.Diff(ianaRootAnchors, got, cmp.Comparer(time.Time.Equal)); diff != "" {
		t.Errorf("Embedded() (-want +got):\n%s", diff)
	}
}

func TestEmbeddedSelect(t *testing.T) {
	tests := []struct {
		name string
		at   time.Time
		want []uint16
	}{
		{"before the root was signed", utc(2010, 1, 1), nil},
		{"KSK-2010 alone", utc(2016, 1, 1), []uint16{19036}},
		{"KSK-2017 published", utc(2018, 6, 1), []uint16{19036, 20326}},
		{"KSK-2010 retired", utc(2019, 1, 11), []uint16{20326}},
		{"KSK-2024 published", utc(2024, 7, 18), []uint16{20326, 38696}},
		{"far future", utc(2100, 1, 1), []uint16{20326, 38696}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []uint16
			for _, a := range Select(Embedded(), tt.at) {
				got = append(got, a.KeyTag())
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Select(Embedded(), %v) key tags (-want +got):\n%s", tt.at, diff)
			}
		})
	}
}

func TestEmbeddedReturnsCopies(t *testing.T) {
	first := Embedded()
	first[1].DS.Digest = "00"
	first[1].Source = "changed"
	second := Embedded()
	if second[1].DS.Digest != ianaRootAnchors[1].Digest || second[1].Source != embeddedSource {
		t.Errorf("Embedded() after changing an earlier result = %v from %q, want the original",
			second[1], second[1].Source)
	}
}

// TestEmbeddedFileIsIANAs checks properties of the embedded file as a
// whole, which a careless edit would change.
func TestEmbeddedFileIsIANAs(t *testing.T) {
	if got := len(rootAnchorsXML); got != 1861 {
		t.Errorf("len(root-anchors.xml) = %d bytes, want 1861, the size of IANA's file", got)
	}
	const id = `<TrustAnchor id="0C05FDD6-422C-4910-8ED6-430ED15E11C2"`
	if !bytes.Contains(rootAnchorsXML, []byte(id)) {
		t.Errorf("root-anchors.xml lacks %s", id)
	}
	// Both current KSKs carry PublicKey and Flags, which the parser checks
	// against the digest: count them so that a file without them fails.
	if got := bytes.Count(rootAnchorsXML, []byte("<PublicKey>")); got != 2 {
		t.Errorf("root-anchors.xml has %d <PublicKey> elements, want 2", got)
	}
}

// TestDebianRootData compares the embedded anchors with the copies that
// Debian's dns-root-data package installs in /usr/share/dns.
func TestDebianRootData(t *testing.T) {
	const dir = "/usr/share/dns"
	if _, err := os.Stat(dir + "/root.ds"); err != nil {
		skipMissingTool(t, "Debian package dns-root-data not installed: %v", err)
	}
	embedded := map[uint16]Anchor{}
	for _, a := range Embedded() {
		embedded[a.KeyTag()] = a
	}
	// requireEmbedded checks that the embedded set has a DS equal to ds.
	requireEmbedded := func(t *testing.T, ds *dns.DS, from string) {
		t.Helper()
		a, ok := embedded[ds.KeyTag]
		if !ok {
			t.Errorf("%s has key tag %d, which the embedded root-anchors.xml lacks; "+
				"update trustanchor/root-anchors.xml from IANA", from, ds.KeyTag)
			return
		}
		if a.DS.Algorithm != ds.Algorithm || a.DS.DigestType != ds.DigestType ||
			!strings.EqualFold(a.DS.Digest, ds.Digest) {
			t.Errorf("%s: DS = %v, embedded DS = %v, want equal", from, ds, a.DS)
		}
	}

	t.Run("root.ds", func(t *testing.T) {
		anchors, err := Load(dir + "/root.ds")
		if err != nil {
			t.Fatalf("Load(root.ds): %v", err)
		}
		for _, a := range anchors {
			requireEmbedded(t, a.DS, a.Source)
		}
	})
	t.Run("root.key", func(t *testing.T) {
		anchors, err := Load(dir + "/root.key")
		if err != nil {
			t.Fatalf("Load(root.key): %v", err)
		}
		for _, a := range anchors {
			requireEmbedded(t, a.DNSKEY.ToDS(dns.SHA256), a.Source)
		}
	})
	t.Run("root-anchors.xml", func(t *testing.T) {
		path := dir + "/root-anchors.xml"
		anchors, err := Load(path)
		if errors.Is(err, fs.ErrNotExist) {
			// dns-root-data 2024071801~deb12u1 installs root.ds and root.key
			// but not the XML file, so this skip is not a missing tool.
			t.Skipf("%s not installed by this version of dns-root-data", path)
		}
		if err != nil {
			t.Fatalf("Load(%s): %v", path, err)
		}
		for _, a := range anchors {
			requireEmbedded(t, a.DS, a.Source)
			e := embedded[a.KeyTag()]
			if !a.ValidFrom.Equal(e.ValidFrom) || !a.ValidUntil.Equal(e.ValidUntil) {
				t.Errorf("%s: validity %v to %v, embedded %v to %v, want equal",
					a.Source, a.ValidFrom, a.ValidUntil, e.ValidFrom, e.ValidUntil)
			}
		}
	})
}

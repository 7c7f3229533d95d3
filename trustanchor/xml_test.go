package trustanchor

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// xmlAnchor is the part of an anchor read from XML that tables compare.
type xmlAnchor struct {
	Owner      string
	KeyTag     uint16
	Algorithm  uint8
	DigestType uint8
	Digest     string
	ValidFrom  time.Time
	ValidUntil time.Time
	Source     string
}

func summarizeXML(t *testing.T, anchors []Anchor) []xmlAnchor {
	t.Helper()
	var out []xmlAnchor
	for _, a := range anchors {
		if a.DS == nil || a.DNSKEY != nil {
			t.Fatalf("anchor %v from XML is not a DS anchor alone", a)
		}
		out = append(out, xmlAnchor{
			Owner: a.Owner(), KeyTag: a.KeyTag(), Algorithm: a.Algorithm(),
			DigestType: a.DS.DigestType, Digest: a.DS.Digest,
			ValidFrom: a.ValidFrom, ValidUntil: a.ValidUntil, Source: a.Source,
		})
	}
	return out
}

func utc(year int, month time.Month, day int) time.Time {
	return time.Date(year, month, day, 0, 0, 0, 0, time.UTC)
}

func TestParseXMLFiles(t *testing.T) {
	tests := []struct {
		file string
		want []xmlAnchor
	}{
		{
			file: "rfc9718-example.xml",
			want: []xmlAnchor{
				{".", 19036, 8, 2, "49aac11d7b6f6446702e54a1607371607a1a41855200fd2ce1cdde32f24e8fb5",
					utc(2010, 7, 15), utc(2019, 1, 11), "rfc9718-example.xml:5"},
				{".", 20326, 8, 2, "e06d44b80b8f1d39a95c0b0d7c65d08458e880409bbc683457104237c7f8ec8d",
					utc(2017, 2, 2), time.Time{}, "rfc9718-example.xml:16"},
			},
		},
		{
			file: "example.test.xml",
			want: []xmlAnchor{
				{"example.test.", 2140, 8, 1, "be9a37bf5cbe1abde59196f2d5d3cfc080101c00",
					utc(2020, 1, 1), time.Date(2030, 1, 1, 0, 0, 0, 0, time.FixedZone("", 3600)),
					"example.test.xml:6"},
				{"example.test.", 53212, 13, 4, "ee7ca7d81892d1378bf698b344e6044371a14a3ea7feb1e710c43faeb9b8e49" +
					"689c515323e426318b0377ec7f5f93ff2",
					time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC), time.Time{}, "example.test.xml:13"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			f, err := os.Open(filepath.Join(testdata, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			anchors, err := ParseXML(f, tt.file)
			if err != nil {
				t.Fatalf("ParseXML(%s): %v", tt.file, err)
			}
			got := summarizeXML(t, anchors)
			if diff := cmp.Diff(tt.want, got, cmp.Comparer(time.Time.Equal)); diff != "" {
				t.Errorf("ParseXML(%s) anchors (-want +got):\n%s", tt.file, diff)
			}
		})
	}
}

// baseXML is a valid document whose line numbers the error cases rely on.
const baseXML = `<?xml version="1.0" encoding="UTF-8"?>
<TrustAnchor id="t" source="test">
  <Zone>.</Zone>
  <KeyDigest id="Klajeyz" validFrom="2017-02-02T00:00:00+00:00">
    <KeyTag>20326</KeyTag>
    <Algorithm>8</Algorithm>
    <DigestType>2</DigestType>
    <Digest>E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D</Digest>
  </KeyDigest>
</TrustAnchor>
`

// The public keys of KSK-2017 and KSK-2024, and the parts of baseXML that
// cases replace.
const (
	ksk2017Key = "AwEAAaz/tAm8yTn4Mfeh5eyI96WSVexTBAvkMgJzkKTOiW1vkIbzxeF3+/4RgWOq7HrxRixHlFlExOLAJr5emLvN7SWXgnLh4+" +
		"B5xQlNVz8Og8kvArMtNROxVQuCaSnIDdD5LKyWbRd2n9WGe2R8PzgCmr3EgVLrjyBxWezF0jLHwVN8efS3rCj/EWgvIWgb9tarpVUD" +
		"K/b58Da+sqqls3eNbuv7pr+eoZG+SrDK6nWeL3c6H5Apxz7LjVc1uTIdsIXxuOLYA4/ilBmSVIzuDWfdRUfhHdY6+cn8HFRm+2hM8" +
		"AnXGXws9555KrUB5qihylGa8subX2Nn6UwNR1AkUTV74bU="
	ksk2024Key = "AwEAAa96jeuknZlaeSrvyAJj6ZHv28hhOKkx3rLGXVaC6rXTsDc449/cidltpkyGwCJNnOAlFNKF2jBosZBU5eeHspaQWOmOEl" +
		"ZsjICMQMC3aeHbGiShvZsx4wMYSjH8e7Vrhbu6irwCzVBApESjbUdpWWmEnhathWu1jo+siFUiRAAxm9qyJNg/wOZqqzL/dL/q8Pkc" +
		"RU5oUKEpUge71M3ej2/7CPqpdVwuMoTvoB+ZOT4YeGyxMvHmbrxlFzGOHOijtzN+u1TQNatX2XBuzZNQ1K+s2CXkPIZo7s6JgZyvaB" +
		"evYtxPvYLw4z9mR7K2vaF18UYH9Z9GNUUeayffKC73PYc="
	baseDigest = "<Digest>E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D</Digest>"
	baseFrom   = `validFrom="2017-02-02T00:00:00+00:00"`
)

// withKey returns baseXML with PublicKey and Flags elements on lines 9
// and 10, after the Digest.
func withKey(key, flags string) string {
	return strings.Replace(baseXML, baseDigest,
		baseDigest+"\n    <PublicKey>"+key+"</PublicKey>\n    <Flags>"+flags+"</Flags>", 1)
}

func TestParseXMLAcceptsVariants(t *testing.T) {
	tests := []struct {
		name  string
		input string
	}{
		{"base document", baseXML},
		{"matching public key", withKey(ksk2017Key, "257")},
		{"no XML declaration", strings.Replace(baseXML, `<?xml version="1.0" encoding="UTF-8"?>`, "", 1)},
		{"zone without trailing dot", strings.Replace(
			strings.Replace(baseXML, "<Zone>.</Zone>", "<Zone>example.test</Zone>", 1),
			baseDigest, "<Digest>"+strings.Repeat("00", 32)+"</Digest>", 1)},
		{"fractional seconds", strings.Replace(baseXML, baseFrom, `validFrom="2017-02-02T00:00:00.5Z"`, 1)},
		{"unknown digest type", strings.Replace(baseXML, "<DigestType>2</DigestType>",
			"<DigestType>77</DigestType>", 1)},
		{"unknown attribute and child", strings.Replace(baseXML, "<KeyTag>",
			`<Extra a="b"><Nested/></Extra><KeyTag>`, 1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			anchors, err := ParseXML(strings.NewReader(tt.input), "root-anchors.xml")
			if err != nil {
				t.Fatalf("ParseXML(%s) error = %v, want nil", tt.name, err)
			}
			if len(anchors) != 1 {
				t.Errorf("ParseXML(%s) = %d anchors, want 1", tt.name, len(anchors))
			}
		})
	}
}

func TestParseXMLErrors(t *testing.T) {
	replace := func(old, new string) string {
		if !strings.Contains(baseXML, old) {
			panic("baseXML does not contain " + old)
		}
		return strings.Replace(baseXML, old, new, 1)
	}
	tests := []struct {
		name     string
		input    string
		wantLine int
		wantText string
	}{
		{
			name:     "bad hex",
			input:    replace("7F8EC8D<", "7F8EC8G<"),
			wantLine: 8,
			wantText: "is not hexadecimal; get a fresh copy",
		},
		{
			name:     "short digest",
			input:    replace("7F8EC8D<", "7F8EC<"),
			wantLine: 8,
			wantText: "DS digest is 31 bytes, SHA-256 (digest type 2) needs 32",
		},
		{
			name:     "empty digest",
			input:    replace(baseDigest, "<Digest> </Digest>"),
			wantLine: 8,
			wantText: "DS digest is empty",
		},
		{
			name:     "key tag not a number",
			input:    replace("<KeyTag>20326<", "<KeyTag>2O326<"),
			wantLine: 5,
			wantText: `<KeyTag> "2O326" is not a whole number from 0 to 65535`,
		},
		{
			name:     "key tag too large",
			input:    replace("<KeyTag>20326<", "<KeyTag>65536<"),
			wantLine: 5,
			wantText: "from 0 to 65535",
		},
		{
			name:     "algorithm too large",
			input:    replace("<Algorithm>8<", "<Algorithm>256<"),
			wantLine: 6,
			wantText: `<Algorithm> "256" is not a whole number from 0 to 255`,
		},
		{
			name:     "missing digest",
			input:    replace(baseDigest, ""),
			wantLine: 4,
			wantText: `<KeyDigest id="Klajeyz"> has no <Digest> element`,
		},
		{
			name:     "missing validFrom",
			input:    replace(baseFrom, ""),
			wantLine: 4,
			wantText: "has no validFrom attribute",
		},
		{
			name:     "impossible date",
			input:    replace(baseFrom, `validFrom="2017-02-30T00:00:00+00:00"`),
			wantLine: 4,
			wantText: `validFrom "2017-02-30T00:00:00+00:00", which is not a date and time`,
		},
		{
			name:     "date without time zone",
			input:    replace(baseFrom, `validFrom="2017-02-02T00:00:00"`),
			wantLine: 4,
			wantText: "with a time zone",
		},
		{
			name:     "bad validUntil",
			input:    replace(baseFrom, baseFrom+` validUntil="soon"`),
			wantLine: 4,
			wantText: `validUntil "soon"`,
		},
		{
			name:     "validUntil before validFrom",
			input:    replace(baseFrom, baseFrom+` validUntil="2010-01-01T00:00:00+00:00"`),
			wantLine: 4,
			wantText: "which is not after its validFrom",
		},
		{
			name:     "validUntil equal to validFrom",
			input:    replace(baseFrom, baseFrom+` validUntil="2017-02-02T01:00:00+01:00"`),
			wantLine: 4,
			wantText: "so it is never valid",
		},
		{
			name:     "missing zone",
			input:    replace("  <Zone>.</Zone>\n", ""),
			wantLine: 2,
			wantText: "<TrustAnchor> has no <Zone> element",
		},
		{
			name:     "bad zone",
			input:    replace("<Zone>.</Zone>", "<Zone>a..b</Zone>"),
			wantLine: 3,
			wantText: `<Zone> "a..b" is not a domain name`,
		},
		{
			name:     "empty zone",
			input:    replace("<Zone>.</Zone>", "<Zone></Zone>"),
			wantLine: 3,
			wantText: `<Zone> "" is not a domain name`,
		},
		{
			name:     "second zone",
			input:    replace("<Zone>.</Zone>", "<Zone>.</Zone><Zone>net.</Zone>"),
			wantLine: 3,
			wantText: "second <Zone> element",
		},
		{
			name:     "no key digests",
			input:    "<TrustAnchor>\n  <Zone>.</Zone>\n</TrustAnchor>\n",
			wantLine: 1,
			wantText: "<TrustAnchor> has no <KeyDigest> elements",
		},
		{
			name:     "wrong root element",
			input:    "<?xml version=\"1.0\"?>\n<html><body>Not found</body></html>\n",
			wantLine: 2,
			wantText: "root element is <html>, not <TrustAnchor>",
		},
		{
			name:     "mismatched end tag",
			input:    replace("</KeyTag>", "</KeyTags>"),
			wantLine: 5,
			wantText: "XML syntax error: element <KeyTag> closed by </KeyTags>",
		},
		{
			name:     "truncated file",
			input:    baseXML[:strings.Index(baseXML, "<Algorithm>")],
			wantLine: 6,
			wantText: "XML syntax error: unexpected EOF",
		},
		{
			name:     "empty input",
			input:    "",
			wantLine: 0,
			wantText: "no <TrustAnchor> element",
		},
		{
			name:     "text before root",
			input:    "garbage\n" + baseXML,
			wantLine: 1,
			wantText: "text outside the <TrustAnchor> element",
		},
		{
			name:     "second root",
			input:    baseXML + "<TrustAnchor/>\n",
			wantLine: 11,
			wantText: "element <TrustAnchor> after </TrustAnchor>",
		},
		{
			name:     "element inside digest",
			input:    replace("<Digest>E06D", "<Digest><b>x</b>E06D"),
			wantLine: 8,
			wantText: "element <b> inside <Digest>, which holds only text",
		},
		{
			name:     "duplicate digest",
			input:    replace(baseDigest, baseDigest+"\n    "+baseDigest),
			wantLine: 9,
			wantText: `second <Digest> element in <KeyDigest id="Klajeyz">`,
		},
		{
			name:     "unsupported encoding",
			input:    strings.Replace(baseXML, "UTF-8", "ISO-8859-1", 1),
			wantLine: 1,
			wantText: "reading XML",
		},
		{
			name:     "public key without flags",
			input:    replace(baseDigest, baseDigest+"\n    <PublicKey>"+ksk2017Key+"</PublicKey>"),
			wantLine: 9,
			wantText: "has <PublicKey> without <Flags>",
		},
		{
			name:     "flags without public key",
			input:    replace(baseDigest, baseDigest+"\n    <Flags>257</Flags>"),
			wantLine: 9,
			wantText: "has <Flags> without <PublicKey>",
		},
		{
			name:     "public key of another key tag",
			input:    withKey(ksk2024Key, "257"),
			wantLine: 9,
			wantText: "<PublicKey> and <Flags> give key tag 38696, but <KeyTag> is 20326",
		},
		{
			name:     "public key and digest disagree",
			input:    strings.Replace(withKey(ksk2017Key, "257"), "7C7F8EC8D<", "7C7F8EC8E<", 1),
			wantLine: 9,
			wantText: "hash to digest E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D, " +
				"not to the <Digest> given",
		},
		{
			name:     "revoked key",
			input:    withKey(ksk2017Key, "385"),
			wantLine: 9,
			wantText: "has the REVOKE flag (128) set",
		},
		{
			name:     "key without zone flag",
			input:    withKey(ksk2017Key, "1"),
			wantLine: 9,
			wantText: "without the Zone Key flag (256)",
		},
		{
			name:     "flags not a number",
			input:    withKey(ksk2017Key, "KSK"),
			wantLine: 10,
			wantText: `<Flags> "KSK" is not a whole number from 0 to 65535`,
		},
		{
			name:     "public key not base64",
			input:    withKey("not base64!", "257"),
			wantLine: 9,
			wantText: "DNSKEY public key is not valid base64",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			anchors, err := ParseXML(strings.NewReader(tt.input), "/etc/root-anchors.xml")
			if err == nil {
				t.Fatalf("ParseXML(%s) = %d anchors, want an error", tt.name, len(anchors))
			}
			requireParseError(t, err, "/etc/root-anchors.xml", tt.wantLine, tt.wantText)
		})
	}
}

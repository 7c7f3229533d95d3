package trustanchor

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/miekg/dns"
)

func TestParseZoneFiles(t *testing.T) {
	tests := []struct {
		file string
		want []summary
	}{
		{
			file: "ldns-key2ds.ds",
			want: []summary{
				{"DS", "example.test.", 2140, 8, 1, "ldns-key2ds.ds:1"},
				{"DS", "example.test.", 2140, 8, 2, "ldns-key2ds.ds:2"},
				{"DS", "example.test.", 2140, 8, 4, "ldns-key2ds.ds:3"},
				{"DS", "example.test.", 53212, 13, 1, "ldns-key2ds.ds:4"},
				{"DS", "example.test.", 53212, 13, 2, "ldns-key2ds.ds:5"},
				{"DS", "example.test.", 53212, 13, 4, "ldns-key2ds.ds:6"},
			},
		},
		{
			file: "ldns-keygen.key",
			want: []summary{{"DNSKEY", "example.test.", 53212, 13, 0, "ldns-keygen.key:1"}},
		},
		{
			file: "dig-dnskey-multi.txt",
			want: []summary{
				{"DNSKEY", "example.test.", 31850, 13, 0, "dig-dnskey-multi.txt:15"},
				{"DNSKEY", "example.test.", 53212, 13, 0, "dig-dnskey-multi.txt:19"},
				{"DNSKEY", "example.test.", 2140, 8, 0, "dig-dnskey-multi.txt:23"},
			},
		},
		{
			file: "dig-dnskey.txt",
			want: []summary{
				{"DNSKEY", "example.test.", 31850, 13, 0, "dig-dnskey.txt:3"},
				{"DNSKEY", "example.test.", 2140, 8, 0, "dig-dnskey.txt:4"},
			},
		},
		{
			file: "mixed.zone",
			want: []summary{
				{"DNSKEY", "example.test.", 53212, 13, 0, "mixed.zone:6"},
				{"DS", "example.test.", 53212, 13, 2, "mixed.zone:9"},
				{"DS", "example.test.", 2140, 8, 2, "mixed.zone:12"},
				{"DS", "example.test.", 2140, 8, 1, "mixed.zone:13"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(testdata, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			anchors, err := ParseZone(bytes.NewReader(data), tt.file)
			if err != nil {
				t.Fatalf("ParseZone(%s): %v", tt.file, err)
			}
			if diff := cmp.Diff(tt.want, summarize(anchors)); diff != "" {
				t.Errorf("ParseZone(%s) anchors (-want +got):\n%s", tt.file, diff)
			}
		})
	}
}

// TestLdnsDigestsMatchToDS checks the DS records that ldns-key2ds printed
// against miekg/dns's DNSKEY.ToDS for the keys that ldns-keygen wrote.
func TestLdnsDigestsMatchToDS(t *testing.T) {
	keys, err := Load(filepath.Join(testdata, "dig-dnskey-multi.txt"))
	if err != nil {
		t.Fatal(err)
	}
	byTag := map[uint16]*dns.DNSKEY{}
	for _, k := range keys {
		byTag[k.KeyTag()] = k.DNSKEY
	}
	digests, err := Load(filepath.Join(testdata, "ldns-key2ds.ds"))
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range digests {
		t.Run(fmt.Sprintf("%d/%d", a.KeyTag(), a.DS.DigestType), func(t *testing.T) {
			key := byTag[a.KeyTag()]
			if key == nil {
				t.Fatalf("no DNSKEY with key tag %d in dig-dnskey-multi.txt", a.KeyTag())
			}
			want := key.ToDS(a.DS.DigestType).Digest
			if a.DS.Digest != want {
				t.Errorf("DS digest = %s, want ToDS digest %s", a.DS.Digest, want)
			}
		})
	}
}

func TestParseZoneNormalisesDigest(t *testing.T) {
	anchors, err := ParseZone(strings.NewReader(rootDS2017), "root.ds")
	if err != nil {
		t.Fatalf("ParseZone(root DS): %v", err)
	}
	const want = "e06d44b80b8f1d39a95c0b0d7c65d08458e880409bbc683457104237c7f8ec8d"
	if got := anchors[0].DS.Digest; got != want {
		t.Errorf("ParseZone(root DS) digest = %s, want lowercase %s", got, want)
	}
}

func TestParseZoneKeepsUnknownTypes(t *testing.T) {
	tests := []struct {
		name string
		line string
	}{
		{"unknown digest type, any length", "example.test. IN DS 12345 8 99 ABCDEF"},
		{"GOST digest type", "example.test. IN DS 12345 12 3 ABCDEF"},
		{"private algorithm DS", "example.test. IN DS 12345 253 2 " + strings.Repeat("ab", 32)},
		{"unknown algorithm DNSKEY", "example.test. IN DNSKEY 257 3 200 AQID"},
		{"zone key without SEP flag", "example.test. IN DNSKEY 256 3 13 AQID"},
		{"CRLF line end", rootDS2017 + "\r\n"},
		{"algorithm mnemonic", "example.test. IN DS 12345 RSASHA256 2 " + strings.Repeat("ab", 32)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			anchors, err := ParseZone(strings.NewReader(tt.line), "x.anchor")
			if err != nil {
				t.Fatalf("ParseZone(%q) error = %v, want nil", tt.line, err)
			}
			if len(anchors) != 1 {
				t.Errorf("ParseZone(%q) = %d anchors, want 1", tt.line, len(anchors))
			}
		})
	}
}

func TestParseZoneErrors(t *testing.T) {
	const (
		digest32 = "E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D"
		ecKey    = "bzQeRtrCzgWLs4hY7vChNuGhP3txBB8IWw4HA3S7Ly2xFfJfphrYdY0/YV+UajswY3zYYZIwiLZP1B4tS+lJRA=="
	)
	tests := []struct {
		name     string
		input    string
		wantLine int
		wantText string
	}{
		{
			name:     "bad hex",
			input:    ". IN DS 20326 8 2 " + digest32[:62] + "XZ",
			wantLine: 1,
			wantText: "is not hexadecimal; copy the whole line again",
		},
		{
			name:     "odd number of hex digits",
			input:    ". IN DS 20326 8 2 " + digest32[:63],
			wantLine: 1,
			wantText: "is not hexadecimal",
		},
		{
			name:     "short SHA-256 digest",
			input:    "; root\n\n. IN DS 20326 8 2 " + digest32[:62],
			wantLine: 3,
			wantText: "DS digest is 31 bytes, SHA-256 (digest type 2) needs 32; " +
				"copy the whole line again from ldns-key2ds -n",
		},
		{
			name:     "SHA-1 digest too long",
			input:    rootDS2017 + "\n. IN DS 20326 8 1 " + digest32,
			wantLine: 2,
			wantText: "DS digest is 32 bytes, SHA-1 (digest type 1) needs 20",
		},
		{
			name:     "SHA-384 digest too short",
			input:    ". IN DS 20326 8 4 " + digest32,
			wantLine: 1,
			wantText: "DS digest is 32 bytes, SHA-384 (digest type 4) needs 48",
		},
		{
			name:     "empty digest in parentheses",
			input:    ". IN DS 20326 8 2 ( )",
			wantLine: 1,
			wantText: "DS digest is empty",
		},
		{
			name:     "A record",
			input:    rootDS2017 + "\nexample.test. IN A 192.0.2.1",
			wantLine: 2,
			wantText: "A record, but a trust anchor file may hold only DS and DNSKEY records",
		},
		{
			name: "RRSIG from dig +dnssec",
			input: ". 172800 IN RRSIG DNSKEY 8 0 172800 20250101000000 20241211000000 20326 . " +
				"AQID",
			wantLine: 1,
			wantText: "RRSIG record, but",
		},
		{
			name:     "CDS record",
			input:    "example.test. IN CDS 20326 8 2 " + digest32,
			wantLine: 1,
			wantText: "CDS record, but",
		},
		{
			name:     "revoked key",
			input:    "example.test. IN DNSKEY 385 3 13 " + ecKey,
			wantLine: 1,
			wantText: "has the REVOKE flag (128) set",
		},
		{
			name:     "no zone key flag",
			input:    "example.test. IN DNSKEY 1 3 13 " + ecKey,
			wantLine: 1,
			wantText: "DNSKEY flags are 1, without the Zone Key flag (256)",
		},
		{
			name:     "protocol not 3",
			input:    "example.test. IN DNSKEY 257 4 13 " + ecKey,
			wantLine: 1,
			wantText: "DNSKEY protocol is 4, but RFC 4034 §2.1.2 requires 3",
		},
		{
			name:     "bad base64",
			input:    "example.test. IN DNSKEY 257 3 13 bzQe!!RtrC",
			wantLine: 1,
			wantText: "DNSKEY public key is not valid base64",
		},
		{
			name:     "revoked key inside parentheses",
			input:    "; dig +multi\nexample.test. 3600 IN DNSKEY 385 3 13 (\n\t" + ecKey + "\n\t)\n",
			wantLine: 2,
			wantText: "REVOKE flag",
		},
		{
			name:     "empty",
			input:    "",
			wantLine: 0,
			wantText: "no DS or DNSKEY records found",
		},
		{
			name:     "comments and blank lines only",
			input:    "; nothing here\n\n   \n\t; still nothing\n",
			wantLine: 0,
			wantText: "no DS or DNSKEY records found",
		},
		{
			name:     "garbage line",
			input:    rootDS2017 + "\nthis is not a record\n",
			wantLine: 2,
			wantText: "a trust anchor line has the form",
		},
		{
			name:     "bad digest type",
			input:    ". IN DS 20326 8 x " + digest32,
			wantLine: 1,
			wantText: `bad DS DigestType: "x"; a trust anchor line has the form`,
		},
		{
			name:     "parenthesis never closed",
			input:    rootDS2017 + "\nexample.test. IN DNSKEY 257 3 13 (\n" + ecKey + "\n",
			wantLine: 2,
			wantText: "'(' on this line is never closed",
		},
		{
			name:     "stray closing parenthesis",
			input:    "; x\n" + rootDS2017 + " )\n",
			wantLine: 2,
			wantText: "')' without a matching '('",
		},
		{
			name:     "include",
			input:    "$INCLUDE /etc/passwd\n" + rootDS2017,
			wantLine: 1,
			wantText: "$INCLUDE is not allowed",
		},
		{
			name:     "generate",
			input:    rootDS2017 + "\n$GENERATE 1-2 host$ A 192.0.2.$",
			wantLine: 2,
			wantText: "unknown directive $GENERATE",
		},
		{
			name:     "bad TTL directive",
			input:    "$TTL forever\n" + rootDS2017,
			wantLine: 1,
			wantText: "write the TTL in seconds",
		},
		{
			name:     "TTL directive without value",
			input:    "$TTL\n" + rootDS2017,
			wantLine: 1,
			wantText: "$TTL needs exactly one TTL",
		},
		{
			name:     "bad origin directive",
			input:    "$ORIGIN a..b.\n" + rootDS2017,
			wantLine: 1,
			wantText: `$ORIGIN "a..b." is not a valid domain name`,
		},
		{
			name:     "blank owner on first record",
			input:    "; x\n   IN DS 20326 8 2 " + digest32,
			wantLine: 2,
			wantText: "the line starts with a blank",
		},
		{
			name:     "class CH",
			input:    ". CH DS 20326 8 2 " + digest32,
			wantLine: 1,
			wantText: "record has class CH, but trust anchors are class IN records",
		},
		{
			name:     "parentheses without record",
			input:    "( )\n" + rootDS2017,
			wantLine: 1,
			wantText: "a trust anchor line has the form",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			anchors, err := ParseZone(strings.NewReader(tt.input), "/etc/x.anchor")
			if err == nil {
				t.Fatalf("ParseZone(%q) = %d anchors, want an error", tt.input, len(anchors))
			}
			requireParseError(t, err, "/etc/x.anchor", tt.wantLine, tt.wantText)
		})
	}
}

// TestLabKey generates keys with miekg/dns, writes each key and its DS to
// a file, and loads it back.
func TestLabKey(t *testing.T) {
	tests := []struct {
		algorithm uint8
		bits      int
	}{
		{dns.ECDSAP256SHA256, 256},
		{dns.ED25519, 256},
		{dns.RSASHA256, 2048},
	}
	for _, tt := range tests {
		t.Run(dns.AlgorithmToString[tt.algorithm], func(t *testing.T) {
			key := &dns.DNSKEY{
				Hdr: dns.RR_Header{
					Name: "Lab.Example.TEST.", Rrtype: dns.TypeDNSKEY, Class: dns.ClassINET, Ttl: 3600,
				},
				Flags:     dns.ZONE | dns.SEP,
				Protocol:  3,
				Algorithm: tt.algorithm,
			}
			if _, err := key.Generate(tt.bits); err != nil {
				t.Fatalf("Generate(%d): %v", tt.bits, err)
			}
			ds := key.ToDS(dns.SHA256)
			path := writeFile(t, "lab.anchor", "; lab key\n"+key.String()+"\n\n"+ds.String()+"\n")

			anchors, err := Load(path)
			if err != nil {
				t.Fatalf("Load(lab key): %v", err)
			}
			want := []summary{
				{"DNSKEY", "lab.example.test.", key.KeyTag(), tt.algorithm, 0, path + ":2"},
				{"DS", "lab.example.test.", key.KeyTag(), tt.algorithm, dns.SHA256, path + ":4"},
			}
			if diff := cmp.Diff(want, summarize(anchors)); diff != "" {
				t.Errorf("Load(lab key) anchors (-want +got):\n%s", diff)
			}
		})
	}
}

// TestLdnsTools runs ldns-keygen and ldns-key2ds, which work offline, and
// loads what they write.
func TestLdnsTools(t *testing.T) {
	for _, tool := range []string{"ldns-keygen", "ldns-key2ds"} {
		if _, err := exec.LookPath(tool); err != nil {
			skipMissingTool(t, "%s not found (Debian package ldnsutils): %v", tool, err)
		}
	}
	dir := t.TempDir()
	run := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(args[0], args[1:]...)
		cmd.Dir = dir
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%s: %v", strings.Join(args, " "), err)
		}
		return string(out)
	}

	base := strings.TrimSpace(run("ldns-keygen", "-a", "ECDSAP256SHA256", "-k", "lab.example.test"))
	keys, err := Load(filepath.Join(dir, base+".key"))
	if err != nil {
		t.Fatalf("Load(ldns-keygen output): %v", err)
	}
	digests, err := ParseZone(strings.NewReader(run("ldns-key2ds", "-n", "-2", base+".key")), "ldns-key2ds")
	if err != nil {
		t.Fatalf("ParseZone(ldns-key2ds -n output): %v", err)
	}

	if len(keys) != 1 || len(digests) != 1 {
		t.Fatalf("got %d keys and %d digests, want 1 and 1", len(keys), len(digests))
	}
	if keys[0].KeyTag() != digests[0].KeyTag() {
		t.Errorf("DNSKEY key tag = %d, DS key tag = %d, want equal", keys[0].KeyTag(), digests[0].KeyTag())
	}
	if got, want := keys[0].DNSKEY.ToDS(dns.SHA256).Digest, digests[0].DS.Digest; got != want {
		t.Errorf("ToDS digest = %s, ldns-key2ds digest = %s, want equal", got, want)
	}
	if got := keys[0].Owner(); got != "lab.example.test." {
		t.Errorf("Owner() = %q, want lab.example.test.", got)
	}
}

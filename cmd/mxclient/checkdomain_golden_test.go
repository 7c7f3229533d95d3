package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files of testdata/checkdomain from the current output")

// goldenDir holds the expected text reports.
const goldenDir = "../../testdata/checkdomain"

// Volatile parts of a report. The receivers have random loopback
// addresses, and every run generates new keys, so certificate digests
// (whole or shortened) and DNSSEC key tags change. crypto/tls picks the
// TLS 1.3 cipher suite by the CPU's AES support.
var (
	keyTag       = regexp.MustCompile(`\bkey \d+\b`)
	loopbackAddr = regexp.MustCompile(`\b127\.\d{1,3}\.\d{1,3}\.\d{1,3}\b`)
	longHex      = regexp.MustCompile(`\b[0-9a-f]{8}…[0-9a-f]{4}\b|\b[0-9a-f]{32,}\b`)
	tls13Suite   = regexp.MustCompile(`TLS_(AES_128_GCM_SHA256|AES_256_GCM_SHA384|CHACHA20_POLY1305_SHA256)\b`)
)

// normalizeReport replaces the volatile parts of a report by
// placeholders numbered in order of first appearance, so that equal
// values stay equal: a TLSA record's digest and the SPKI digest it
// matches get the same placeholder.
func normalizeReport(text string) string {
	text = tls13Suite.ReplaceAllString(text, "TLS13_CIPHER_SUITE")
	text = keyTag.ReplaceAllString(text, "key TAG")
	text = numberMatches(text, loopbackAddr, func(n int) string { return fmt.Sprintf("ADDRESS-%d", n) },
		"127.0.0.0")
	return numberMatches(text, longHex, func(n int) string { return fmt.Sprintf("HEX-%d", n) }, "")
}

func numberMatches(text string, re *regexp.Regexp, name func(int) string, keep string) string {
	placeholders := map[string]string{}
	count := 0
	return re.ReplaceAllStringFunc(text, func(m string) string {
		if m == keep {
			return m
		}
		if p, ok := placeholders[m]; ok {
			return p
		}
		if head, tail, short := strings.Cut(m, "…"); short {
			// A shortened digest stands for the full one it abbreviates.
			for full, p := range placeholders {
				if len(full) > len(m) && strings.HasPrefix(full, head) && strings.HasSuffix(full, tail) {
					placeholders[m] = p
					return p
				}
			}
		}
		count++
		placeholders[m] = name(count)
		return placeholders[m]
	})
}

func TestCheckDomainTextGolden(t *testing.T) {
	w := newCheckWorld(t)
	tests := []struct {
		domain string
		file   string
	}{
		{"twohosts.test", "twohosts.txt"},
		{"cname.test", "cname.txt"},
		{"nullmx.test", "nullmx.txt"},
		{"bogustlsa.test", "bogustlsa.txt"},
	}
	for _, tt := range tests {
		t.Run(tt.domain, func(t *testing.T) {
			run := w.check(t, tt.domain, func(_ *globalOptions, o *checkDomainOptions) { o.json = false })
			got := normalizeReport(run.stdout)
			path := filepath.Join(goldenDir, tt.file)
			if *update {
				if err := os.MkdirAll(goldenDir, 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -run TestCheckDomainTextGolden -update to create it)", err)
			}
			if diff := cmp.Diff(string(want), got); diff != "" {
				t.Errorf("check-domain %s text mismatch (-%s +got):\n%s", tt.domain, path, diff)
			}
		})
	}
}

// TestCheckDomainJSONGolden compares whole JSON reports, with their
// volatile values replaced as in the text reports, with go-cmp.
func TestCheckDomainJSONGolden(t *testing.T) {
	w := newCheckWorld(t)
	for _, domain := range []string{"verified.test", "twohosts.test"} {
		t.Run(domain, func(t *testing.T) {
			run := w.check(t, domain, nil)
			got := normalizeReport(run.stdout)
			path := filepath.Join(goldenDir, strings.TrimSuffix(domain, ".test")+".json")
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -run TestCheckDomainJSONGolden -update to create it)", err)
			}
			var gotDoc, wantDoc any
			if err := json.Unmarshal([]byte(got), &gotDoc); err != nil {
				t.Fatalf("the output is not JSON: %v\n%s", err, run)
			}
			if err := json.Unmarshal(want, &wantDoc); err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			if diff := cmp.Diff(wantDoc, gotDoc); diff != "" {
				t.Errorf("check-domain --json %s mismatch (-%s +got):\n%s", domain, path, diff)
			}
		})
	}
}

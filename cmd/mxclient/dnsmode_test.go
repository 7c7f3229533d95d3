package main

import (
	"strings"
	"testing"
	"time"

	"github.com/mxclient/mxclient/dnssec/dnssectest"
)

// TestLookupDNSModes runs lookup in each --dns-mode against the lab: its
// resolver stand-in for upstream and auto, its root hints for iterating.
func TestLookupDNSModes(t *testing.T) {
	t.Parallel()
	lab := testLab(t)
	anchor := writeTrustAnchor(t, lab)
	hints := writeFile(t, "root.hints", lab.RootHints())
	at := labNow.Format(time.RFC3339)
	base := []string{"lookup", "--trust-anchor", anchor, "--at", at}
	tests := []struct {
		name       string
		flags      []string
		want       int
		wantStdout string
		wantStderr string
	}{
		{
			name:       "iterate",
			flags:      []string{"--dns-mode", "iterate", "--root-hints", hints},
			want:       exitOK,
			wantStdout: "; www.example.test. A: secure, NOERROR",
		},
		{
			name:       "iterate without minimisation",
			flags:      []string{"--dns-mode", "iterate", "--root-hints", hints, "--no-qname-minimisation"},
			want:       exitOK,
			wantStdout: "; www.example.test. A: secure, NOERROR",
		},
		{
			name:       "auto with a good resolver",
			flags:      []string{"--dns-mode", "auto", "--root-hints", hints, "--resolver", lab.Resolver(dnssectest.Normal)},
			want:       exitOK,
			wantStdout: "; www.example.test. A: secure, NOERROR",
		},
		{
			name:       "auto with a stripping resolver",
			flags:      []string{"--dns-mode", "auto", "--root-hints", hints, "--resolver", lab.Resolver(dnssectest.StripRRSIG)},
			want:       exitOK,
			wantStdout: "; www.example.test. A: secure, NOERROR",
			wantStderr: "mxclient: warning: the resolver strips RRSIG records",
		},
		{
			name:       "upstream with a stripping resolver",
			flags:      []string{"--resolver", lab.Resolver(dnssectest.StripRRSIG)},
			want:       exitDataErr,
			wantStdout: "; www.example.test. A: bogus",
		},
		{
			name:       "root hints with upstream",
			flags:      []string{"--dns-mode", "upstream", "--root-hints", hints, "--resolver", lab.Resolver(dnssectest.Normal)},
			want:       exitUsage,
			wantStderr: "mxclient: --root-hints applies to --dns-mode iterate or auto",
		},
		{
			name:       "resolver with iterate",
			flags:      []string{"--dns-mode", "iterate", "--root-hints", hints, "--resolver", lab.Resolver(dnssectest.Normal)},
			want:       exitUsage,
			wantStderr: "--resolver does not apply to --dns-mode iterate",
		},
		{
			name:       "unreadable root hints",
			flags:      []string{"--dns-mode", "iterate", "--root-hints", hints + ".missing"},
			want:       exitConfig,
			wantStderr: "mxclient: reading --root-hints: open " + hints + ".missing",
		},
		{
			name:       "root hints without addresses",
			flags:      []string{"--dns-mode", "iterate", "--root-hints", writeFile(t, "bad.hints", ". 3600 NS a.root.\n")},
			want:       exitConfig,
			wantStderr: "no root server with an address",
		},
		{
			name:       "root hints that do not parse",
			flags:      []string{"--dns-mode", "iterate", "--root-hints", writeFile(t, "garbage.hints", "not a record\n")},
			want:       exitConfig,
			wantStderr: "garbage.hints",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			args := append(append(append([]string{}, base...), tt.flags...), "www.example.test", "A")
			got := invoke(t, args...)
			if got.code != tt.want {
				t.Fatalf("run(%q) = %d, want %d\n%v", args, got.code, tt.want, got)
			}
			if !strings.Contains(got.stdout, tt.wantStdout) {
				t.Errorf("stdout = %q, want it to contain %q", got.stdout, tt.wantStdout)
			}
			if tt.wantStderr == "" && got.stderr != "" {
				t.Errorf("stderr = %q, want nothing", got.stderr)
			}
			if !strings.Contains(got.stderr, tt.wantStderr) {
				t.Errorf("stderr = %q, want it to contain %q", got.stderr, tt.wantStderr)
			}
		})
	}
}

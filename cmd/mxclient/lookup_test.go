package main

import (
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/mxclient/mxclient/dnssec/dnssectest"
)

func TestLookupExitCodes(t *testing.T) {
	t.Parallel()
	normal := newLabLookup(t, dnssectest.Normal)
	silent := newLabLookup(t, dnssectest.Silent)
	servfail := newLabLookup(t, dnssectest.ServFail)
	const usageHint = "Run 'mxclient lookup --help' for usage."

	tests := []struct {
		name string
		args []string
		want int
		// wantStdout and wantStderr are text that the stream must contain;
		// "" means that the stream must be empty.
		wantStdout, wantStderr string
	}{
		{
			name:       "secure",
			args:       normal.args("www.example.test", "A"),
			want:       exitOK,
			wantStdout: "; www.example.test. A: secure, NOERROR\n",
		},
		{
			name:       "insecure delegation",
			args:       normal.args("www.unsigned.example.test", "A"),
			want:       exitOK,
			wantStdout: "; www.unsigned.example.test. A: insecure, NOERROR\n",
		},
		{
			name:       "secure NXDOMAIN",
			args:       normal.args("nope.example.test", "A"),
			want:       exitOK,
			wantStdout: "; nope.example.test. A: secure, NXDOMAIN\n",
		},
		{
			name:       "secure NODATA",
			args:       normal.args("www.example.test", "AAAA"),
			want:       exitOK,
			wantStdout: "; www.example.test. AAAA: secure, NOERROR\n",
		},
		{
			name:       "bogus expired signatures",
			args:       normal.args("www.expired.test", "A"),
			want:       exitDataErr,
			wantStdout: "; www.expired.test. A: bogus, SERVFAIL\n",
		},
		{
			name:       "indeterminate silent resolver",
			args:       silent.args("--timeout", "3s", "www.example.test", "A"),
			want:       exitTempFail,
			wantStdout: "; www.example.test. A: indeterminate, SERVFAIL\n",
			wantStderr: "mxclient: the --timeout of 3s ran out before the lookup finished",
		},
		{
			name:       "indeterminate SERVFAIL",
			args:       servfail.args("www.example.test", "A"),
			want:       exitTempFail,
			wantStdout: "; www.example.test. A: indeterminate, SERVFAIL\n",
		},
		{
			name:       "no arguments",
			args:       normal.args(),
			want:       exitUsage,
			wantStderr: "mxclient: lookup takes NAME and an optional TYPE, but got 0 arguments\n" + usageHint,
		},
		{
			name:       "three arguments",
			args:       normal.args("www.example.test", "A", "extra"),
			want:       exitUsage,
			wantStderr: "mxclient: lookup takes NAME and an optional TYPE, but got 3 arguments\n" + usageHint,
		},
		{
			name:       "unknown type",
			args:       normal.args("www.example.test", "FOO"),
			want:       exitUsage,
			wantStderr: `mxclient: unknown record type "FOO"`,
		},
		{
			name:       "type number too large",
			args:       normal.args("www.example.test", "TYPE65536"),
			want:       exitUsage,
			wantStderr: `mxclient: unknown record type "TYPE65536"`,
		},
		{
			name:       "invalid name",
			args:       normal.args("www..example.test", "A"),
			want:       exitUsage,
			wantStderr: "mxclient: invalid NAME: ",
		},
		{
			name: "bad --at",
			args: []string{"lookup", "--resolver", normal.resolver, "--trust-anchor", normal.trustAnchor,
				"--at", "2026-06-01 12:00", "www.example.test"},
			want:       exitUsage,
			wantStderr: `mxclient: --at "2026-06-01 12:00" is not an RFC 3339 time`,
		},
		{
			name: "bad --resolver",
			args: []string{"lookup", "--resolver", "not-an-ip", "--trust-anchor", normal.trustAnchor,
				"www.example.test"},
			want:       exitUsage,
			wantStderr: `mxclient: invalid --resolver: resolver "not-an-ip" is not ADDR or ADDR:PORT`,
		},
		{
			name:       "unknown flag",
			args:       normal.args("--no-such-flag", "www.example.test"),
			want:       exitUsage,
			wantStderr: "mxclient: unknown flag: --no-such-flag\n" + usageHint,
		},
		{
			name:       "dns-mode unknown",
			args:       normal.args("--dns-mode", "recursive", "www.example.test"),
			want:       exitUsage,
			wantStderr: `mxclient: invalid --dns-mode "recursive": use upstream, iterate or auto`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := invoke(t, tt.args...)
			if got.code != tt.want {
				t.Errorf("run(%q) = %d, want %d\n%v", tt.args, got.code, tt.want, got)
			}
			checkStream(t, "stdout", got.stdout, tt.wantStdout)
			checkStream(t, "stderr", got.stderr, tt.wantStderr)
		})
	}
}

// checkStream checks that text contains want, or is empty when want is "".
func checkStream(t *testing.T, stream, text, want string) {
	t.Helper()
	if want == "" {
		if text != "" {
			t.Errorf("%s = %q, want it empty", stream, text)
		}
		return
	}
	if !strings.Contains(text, want) {
		t.Errorf("%s = %q, want it to contain %q", stream, text, want)
	}
}

func TestLookupTrustAnchorFile(t *testing.T) {
	t.Parallel()
	lab := testLab(t)
	resolver := lab.Resolver(dnssectest.Normal)
	var anchor strings.Builder
	for _, rr := range lab.TrustAnchor() {
		anchor.WriteString(rr.String() + "\n")
	}

	missing := filepath.Join(t.TempDir(), "missing.ds")
	tests := []struct {
		name string
		path string
		// wantStderr is text that stderr must contain: the file and, for a
		// syntax error, the line.
		wantStderr string
	}{
		{
			name:       "digest not hexadecimal on line 3",
			path:       writeFile(t, "bad-digest.ds", "; lab root\n"+anchor.String()+". IN DS 1 13 2 zz\n"),
			wantStderr: "bad-digest.ds:3: ",
		},
		{
			name:       "not a DS record on line 1",
			path:       writeFile(t, "garbage.ds", "this is not a zone file\n"+anchor.String()),
			wantStderr: "garbage.ds:1: ",
		},
		{
			name:       "no records",
			path:       writeFile(t, "empty.ds", "; only a comment\n"),
			wantStderr: "empty.ds: no DS or DNSKEY records found",
		},
		{
			name:       "missing file",
			path:       missing,
			wantStderr: missing + ": no such file or directory",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := invoke(t, "lookup", "--resolver", resolver, "--trust-anchor", tt.path, "www.example.test")
			if got.code != exitConfig {
				t.Errorf("lookup --trust-anchor %s = %d, want %d\n%v", tt.path, got.code, exitConfig, got)
			}
			checkStream(t, "stdout", got.stdout, "")
			checkStream(t, "stderr", got.stderr, tt.wantStderr)
			if !strings.HasPrefix(got.stderr, "mxclient: ") {
				t.Errorf("stderr = %q, want it to start with \"mxclient: \"", got.stderr)
			}
			if strings.Contains(got.stderr, "--help") {
				t.Errorf("stderr = %q, want no usage hint for a configuration error", got.stderr)
			}
		})
	}
}

func TestLookupHelp(t *testing.T) {
	t.Parallel()
	resolver := newLabLookup(t, dnssectest.Normal).resolver
	for _, flag := range []string{"--help", "-h"} {
		t.Run(flag, func(t *testing.T) {
			t.Parallel()
			got := invoke(t, "lookup", "--resolver", resolver, flag)
			if got.code != exitOK {
				t.Errorf("lookup %s = %d, want %d", flag, got.code, exitOK)
			}
			checkStream(t, "stderr", got.stderr, "")
			checkStream(t, "stdout", got.stdout, "Usage:\n  mxclient lookup NAME [TYPE] [flags]")
			for _, code := range []int{exitOK, exitUsage, exitDataErr, exitTempFail, exitConfig} {
				line := regexp.MustCompile(fmt.Sprintf(`(?m)^ +%d +\S`, code))
				if !line.MatchString(got.stdout) {
					t.Errorf("lookup %s lists no exit status %d:\n%s", flag, code, got.stdout)
				}
			}
		})
	}
}

func TestLookupTypeArgument(t *testing.T) {
	t.Parallel()
	l := newLabLookup(t, dnssectest.Normal)
	tests := []struct {
		name       string
		args       []string
		wantStatus string
	}{
		{"default A", []string{"www.example.test"}, "; www.example.test. A: secure, NOERROR"},
		{"lower-case mnemonic", []string{"example.test", "mx"}, "; example.test. MX: secure, NOERROR"},
		{"mixed-case mnemonic", []string{"example.test", "Mx"}, "; example.test. MX: secure, NOERROR"},
		{"generic form of MX", []string{"example.test", "TYPE15"}, "; example.test. MX: secure, NOERROR"},
		{"generic unassigned", []string{"gen.example.test", "TYPE65534"},
			"; gen.example.test. TYPE65534: secure, NOERROR"},
		{"generic lower case", []string{"gen.example.test", "type65534"},
			"; gen.example.test. TYPE65534: secure, NOERROR"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := invoke(t, l.args(tt.args...)...)
			if got.code != exitOK {
				t.Errorf("lookup %q = %d, want %d\n%v", tt.args, got.code, exitOK, got)
			}
			status, _, _ := strings.Cut(got.stdout, "\n")
			if status != tt.wantStatus {
				t.Errorf("lookup %q status line = %q, want %q", tt.args, status, tt.wantStatus)
			}
		})
	}
}

// TestLookupVerbose uses a lab of its own, so that the lab's query log holds
// only the queries of this lookup.
func TestLookupVerbose(t *testing.T) {
	t.Parallel()
	lab := buildTestLab()
	t.Cleanup(lab.Close)
	if err := lab.Start(); err != nil {
		t.Fatalf("starting the lab: %v", err)
	}
	l := labLookup{resolver: lab.Resolver(dnssectest.Normal), trustAnchor: writeTrustAnchor(t, lab)}

	quiet := invoke(t, l.args("www.example.test", "A")...)
	lab.ResetQueryLog()
	verbose := invoke(t, l.args("-v", "www.example.test", "A")...)
	queries := lab.QueryLog()

	if verbose.code != exitOK {
		t.Errorf("lookup -v = %d, want %d\n%v", verbose.code, exitOK, verbose)
	}
	if verbose.stdout != quiet.stdout {
		t.Errorf("lookup -v stdout = %q, want the stdout without -v, %q", verbose.stdout, quiet.stdout)
	}
	checkStream(t, "stderr without -v", quiet.stderr, "")

	lines := strings.Split(strings.TrimSuffix(verbose.stderr, "\n"), "\n")
	if len(lines) != len(queries) {
		t.Fatalf("lookup -v printed %d lines for %d queries:\n%s", len(lines), len(queries), verbose.stderr)
	}
	// The chain of trust is fetched in parallel, so the lines and the
	// server's log may list the queries in different orders.
	var got, want []string
	for _, line := range lines {
		head, _, _ := strings.Cut(line, ": NOERROR")
		got = append(got, head)
	}
	for _, q := range queries {
		want = append(want, fmt.Sprintf("mxclient: query %s %s to %s over %s", q.Name, dns.Type(q.Type), q.Server, q.Transport))
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("lookup -v query lines = %q, want one per query the server saw, %q", got, want)
	}
}

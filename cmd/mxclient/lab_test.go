package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mxclient/mxclient/dnssec/dnssectest"
)

// labNow is the pinned time at which the lab signs and lookups validate.
var labNow = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

var (
	labOnce      sync.Once
	sharedLab    *dnssectest.Lab
	sharedLabErr error
)

// testLab returns the lab shared by the tests of this package, started on
// first use. Tests only read from it. It serves:
//
//   - example.test., signed with NSEC, with an MX, A records and a record
//     of the unassigned type 65534.
//   - unsigned.example.test., an unsigned delegation.
//   - expired.test., whose signatures all expired a day before labNow.
func testLab(t *testing.T) *dnssectest.Lab {
	t.Helper()
	labOnce.Do(func() {
		sharedLab = buildTestLab()
		sharedLabErr = sharedLab.Start()
	})
	if sharedLabErr != nil {
		t.Fatalf("starting the lab: %v", sharedLabErr)
	}
	return sharedLab
}

func buildTestLab() *dnssectest.Lab {
	l := dnssectest.New(dnssectest.Config{Now: labNow})
	l.Zone(".", dnssectest.ZoneOptions{})
	l.Zone("test.", dnssectest.ZoneOptions{})
	l.Zone("example.test.", dnssectest.ZoneOptions{}).Add(`
@      MX         10 mail
www    A          192.0.2.1
mail   A          192.0.2.25
gen    TYPE65534  \# 3 abcdef
`)
	l.Zone("unsigned.example.test.", dnssectest.ZoneOptions{Unsigned: true}).Add("www A 192.0.2.7")
	l.Zone("expired.test.", dnssectest.ZoneOptions{Faults: []dnssectest.Fault{
		{Kind: dnssectest.ExpiredSignatures},
	}}).Add("www A 192.0.2.66")
	return l
}

// writeTrustAnchor writes the lab's root DS records to a file in zone-file
// form, one record a line, and returns its path.
func writeTrustAnchor(t *testing.T, lab *dnssectest.Lab) string {
	t.Helper()
	var b strings.Builder
	for _, rr := range lab.TrustAnchor() {
		b.WriteString(rr.String() + "\n")
	}
	return writeFile(t, "root.ds", b.String())
}

// writeFile writes text to a new file named name in the test's temporary
// directory and returns its path.
func writeFile(t *testing.T, name, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// labLookup holds the flags that point `mxclient lookup` at the lab.
type labLookup struct {
	resolver    string
	trustAnchor string
}

// newLabLookup starts the shared lab if needed and returns the flags for
// its resolver stand-in in mode and a trust anchor file of its root.
func newLabLookup(t *testing.T, mode dnssectest.ResolverMode) labLookup {
	t.Helper()
	lab := testLab(t)
	return labLookup{resolver: lab.Resolver(mode), trustAnchor: writeTrustAnchor(t, lab)}
}

// args returns a `lookup` command line that queries the lab's resolver
// stand-in and validates at labNow, followed by extra.
func (l labLookup) args(extra ...string) []string {
	args := []string{"lookup", "--resolver", l.resolver, "--trust-anchor", l.trustAnchor,
		"--at", labNow.Format(time.RFC3339)}
	return append(args, extra...)
}

// invocation is the outcome of one call of run.
type invocation struct {
	code           int
	stdout, stderr string
}

// invoke calls run with args and empty stdin, and returns what it wrote.
func invoke(t *testing.T, args ...string) invocation {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(args, strings.NewReader(""), &stdout, &stderr)
	return invocation{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

// String formats an invocation for failure messages.
func (inv invocation) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", inv.code, inv.stdout, inv.stderr)
}

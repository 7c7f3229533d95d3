package integration

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// dnsTools are the programs of the DNS suite and the Debian packages that
// install them, as .ci/run installs them.
var dnsTools = []struct{ program, pkg string }{
	{"ldns-keygen", "ldnsutils"},
	{"ldns-signzone", "ldnsutils"},
	{"ldns-key2ds", "ldnsutils"},
	{"dnssec-keygen", "bind9-utils"},
	{"dnssec-signzone", "bind9-utils"},
	{"dnssec-dsfromkey", "bind9-utils"},
	{"named", "bind9"},
	{"named-checkconf", "bind9-utils"},
	{"nsd", "nsd"},
	{"nsd-checkconf", "nsd"},
	{"unbound", "unbound"},
	{"unbound-checkconf", "unbound"},
	{"delv", "bind9-dnsutils"},
	{"dig", "bind9-dnsutils"},
	{"ip", "iproute2"},
	{"unshare", "util-linux"},
	{"nsenter", "util-linux"},
}

// toolTimeout bounds one run of a key generator, signer or checker.
const toolTimeout = 2 * time.Minute

// skipMissingTool skips the test because something from Debian is missing,
// unless MXCLIENT_INTEGRATION=require (or MXCLIENT_REQUIRE_TOOLS=1), which
// CI sets after installing the tools.
func skipMissingTool(t *testing.T, format string, args ...any) {
	t.Helper()
	if os.Getenv("MXCLIENT_INTEGRATION") == "require" || os.Getenv("MXCLIENT_REQUIRE_TOOLS") == "1" {
		t.Fatalf(format+" (MXCLIENT_INTEGRATION=require turns this skip into a failure)", args...)
	}
	t.Skipf(format, args...)
}

// requireDNSTools skips the test unless every program of the DNS suite is
// installed and the test runs as root, which binding port 53 and creating
// a network namespace need.
func requireDNSTools(t *testing.T) {
	t.Helper()
	var missing []string
	for _, tool := range dnsTools {
		if _, err := exec.LookPath(tool.program); err != nil {
			missing = append(missing, fmt.Sprintf("%s (Debian package %s)", tool.program, tool.pkg))
		}
	}
	if len(missing) > 0 {
		skipMissingTool(t, "the DNS integration suite needs %s: install them as .ci/run does",
			strings.Join(missing, ", "))
	}
	if os.Geteuid() != 0 {
		skipMissingTool(t, "the DNS integration suite binds port 53 on loopback addresses and needs root")
	}
}

// runTool runs a program in dir and returns its standard output. The error
// names the command and carries its standard error.
func runTool(dir, program string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), toolTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, program, args...)
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("%s %s: %w\n%s", program, strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String(), nil
}

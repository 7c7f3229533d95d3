package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Security states as mxclient lookup --json spells them.
const (
	secure        = "secure"
	insecure      = "insecure"
	bogus         = "bogus"
	indeterminate = "indeterminate"
)

// clientTimeout bounds one run of mxclient or delv.
const clientTimeout = 90 * time.Second

// verdict is what a validator concluded about one (name, type) pair.
type verdict struct {
	security string
	rcode    string
	// output is the validator's standard output and standard error, for
	// failure messages.
	output string
}

func (v verdict) String() string {
	return v.security + ", " + v.rcode
}

// clientRun is the outcome of one run of mxclient or delv.
type clientRun struct {
	exitCode       int
	stdout, stderr string
}

// output returns the run's standard output and standard error, for
// failure messages.
func (r clientRun) output() string {
	if r.stderr == "" {
		return r.stdout
	}
	return r.stdout + "--- stderr\n" + r.stderr
}

// runClient runs program with args in the lab's namespace. An exit status
// other than 0 is no error.
func (l *lab) runClient(program string, args ...string) (clientRun, error) {
	return l.runClientInput(nil, program, args...)
}

// runClientInput runs program as runClient does, with input on its
// standard input.
func (l *lab) runClientInput(input []byte, program string, args ...string) (clientRun, error) {
	ctx, cancel := context.WithTimeout(context.Background(), clientTimeout)
	defer cancel()
	cmd := l.ns.command(program, args...)
	if input != nil {
		cmd.Stdin = bytes.NewReader(input)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return clientRun{}, err
	}
	stop := context.AfterFunc(ctx, func() { cmd.Process.Kill() })
	defer stop()
	err := cmd.Wait()

	run := clientRun{stdout: stdout.String(), stderr: stderr.String()}
	var exit *exec.ExitError
	switch {
	case ctx.Err() != nil:
		return run, fmt.Errorf("%s timed out after %v", program, clientTimeout)
	case errors.As(err, &exit):
		run.exitCode = exit.ExitCode()
	case err != nil:
		return run, err
	}
	return run, nil
}

// buildMxclient builds the mxclient command into a temporary directory and
// returns the binary's path. go test puts the go command of its own Go
// installation first on PATH.
func buildMxclient(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "mxclient")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/mxclient/mxclient/cmd/mxclient")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build mxclient: %v\n%s", err, out)
	}
	return bin
}

// mxclientExit maps a security state to the exit status of mxclient
// lookup, as its help text gives it.
var mxclientExit = map[string]int{secure: 0, insecure: 0, bogus: 65, indeterminate: 75}

// mxclientLookup runs mxclient lookup --json with the lab's trust anchor
// and the data source given by sourceArgs, and returns its verdict.
func (l *lab) mxclientLookup(bin string, sourceArgs []string, name, qtype string) (verdict, error) {
	args := append([]string{"lookup", "--json", "--trust-anchor", l.anchorFile}, sourceArgs...)
	args = append(args, name, qtype)
	run, err := l.runClient(bin, args...)
	v := verdict{output: run.output()}
	if err != nil {
		return v, err
	}
	var doc struct {
		Rcode    string `json:"rcode"`
		Security string `json:"security"`
	}
	if err := json.Unmarshal([]byte(run.stdout), &doc); err != nil {
		return v, fmt.Errorf("mxclient lookup --json printed no valid JSON document: %v", err)
	}
	v.security, v.rcode = doc.Security, doc.Rcode
	if want, ok := mxclientExit[v.security]; !ok || run.exitCode != want {
		return v, fmt.Errorf("mxclient exited %d for a %s answer, want %d", run.exitCode, v.security, want)
	}
	return v, nil
}

// delvLookup runs delv against the Unbound upstream with the lab's trust
// anchor and returns its verdict.
func (l *lab) delvLookup(name, qtype string) (verdict, error) {
	run, err := l.runClient("delv", "-a", l.delvAnchorFile, "@"+l.unboundAddr(), name, qtype, "+root=.")
	v := parseDelv(run.stdout + "\n" + run.stderr)
	v.output = run.output()
	return v, err
}

// delvValidationFailures are the reasons after delv's ";; resolution
// failed:" that report a failed validation: the texts of BIND 9.18's
// validation result codes. Any other reason, such as "timed out" or
// "SERVFAIL" from the upstream, means that delv got no data to judge.
//
// NOTE: the lab's faults make delv print all of them but "no valid DS",
// "no valid KEY" and "no valid NSEC". A reason missing from the list turns
// delv's bogus verdict into indeterminate, so a pair that expects bogus
// fails and shows delv's output.
var delvValidationFailures = []string{
	"broken trust chain",
	"RRSIG failed to verify",
	"no valid RRSIG",
	"no valid DS",
	"no valid KEY",
	"no valid NSEC",
	"insecurity proof failed",
}

// parseDelv maps delv's output to a security state and an rcode.
//
// delv prints one status line per RRset it validated, and for a CNAME
// chain one per link: "; fully validated" or "; negative response, fully
// validated" (secure), "; unsigned answer" or "; negative response,
// unsigned answer" (insecure). The chain is as secure as its weakest link.
// A negative response also prints ";; resolution failed: ncache nxdomain"
// (NXDOMAIN) or "ncache nxrrset" (NODATA, rcode NOERROR).
//
// When validation fails, delv prints ";; resolution failed:" with the
// reason and no rcode. A validating resolver answers such a query with
// SERVFAIL (RFC 4035 §5.5), and mxclient reports bogus answers with rcode
// SERVFAIL too, so a validation failure maps to bogus and SERVFAIL. Any
// other failure maps to indeterminate and SERVFAIL.
func parseDelv(out string) verdict {
	v := verdict{security: secure, rcode: "NOERROR"}
	statuses := 0
	for line := range strings.Lines(out) {
		line = strings.TrimRight(line, "\n")
		if reason, ok := strings.CutPrefix(line, ";; resolution failed: "); ok {
			switch {
			case reason == "ncache nxdomain":
				v.rcode = "NXDOMAIN"
			case reason == "ncache nxrrset":
			case isValidationFailure(reason):
				return verdict{security: bogus, rcode: "SERVFAIL"}
			default:
				return verdict{security: indeterminate, rcode: "SERVFAIL"}
			}
			continue
		}
		switch line {
		case "; fully validated", "; negative response, fully validated":
			statuses++
		case "; unsigned answer", "; negative response, unsigned answer":
			statuses++
			v.security = insecure
		}
	}
	if statuses == 0 {
		return verdict{security: indeterminate, rcode: "SERVFAIL"}
	}
	return v
}

func isValidationFailure(reason string) bool {
	for _, r := range delvValidationFailures {
		if reason == r {
			return true
		}
	}
	return false
}

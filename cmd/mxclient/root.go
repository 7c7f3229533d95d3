package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

// streams are the standard streams a command reads and writes.
type streams struct {
	in          io.Reader
	out, errOut io.Writer
}

// argsFor returns the command line to run: invoked under the name
// sendmail, mxclient behaves as "mxclient send".
func argsFor(program string, args []string) []string {
	if filepath.Base(program) == "sendmail" {
		return append([]string{"send"}, args...)
	}
	return args
}

// run executes the command line args and returns the exit code.
func run(args []string, in io.Reader, out, errOut io.Writer) int {
	s := &streams{in: in, out: out, errOut: errOut}
	root := newRootCmd(s)
	root.SetArgs(args)
	root.SetIn(in)
	root.SetOut(out)
	root.SetErr(errOut)
	err := root.Execute()
	if err == nil {
		return exitOK
	}
	code := exitCode(err)
	var ee *exitError
	if !errors.As(err, &ee) {
		// Errors cobra makes itself are flag and argument errors.
		code = exitUsage
	}
	if !errors.Is(err, errSilent) {
		fmt.Fprintf(errOut, "mxclient: %v\n", err)
	}
	if code == exitUsage {
		hint := "mxclient --help"
		if path := commandPath(root, args); path != "" {
			hint = "mxclient " + path + " --help"
		}
		fmt.Fprintf(errOut, "Run '%s' for usage.\n", hint)
	}
	return code
}

// commandPath returns the subcommand named in args, for the usage hint.
func commandPath(root *cobra.Command, args []string) string {
	cmd, _, err := root.Find(args)
	if err != nil || cmd == root {
		return ""
	}
	return strings.TrimPrefix(cmd.CommandPath(), root.Name()+" ")
}

// globalOptions are the flags every command shares.
type globalOptions struct {
	dns dnsOptions
	// verbose counts -v flags: progress and each DNS query go to stderr.
	verbose int
	// timeout is the deadline for the whole command.
	timeout time.Duration
}

func newRootCmd(s *streams) *cobra.Command {
	g := &globalOptions{}
	root := &cobra.Command{
		Use:   "mxclient",
		Short: "Deliver mail to a domain's MX under DANE, and diagnose DNSSEC and DANE",
		Long: `mxclient proves every DNS answer it uses with its own DNSSEC validator,
starting from the root trust anchor, so that no resolver has to be trusted.

Exit codes follow sysexits(3); each command's help lists its own.`,
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return withCode(exitUsage, err)
	})
	pf := root.PersistentFlags()
	g.dns.register(pf)
	pf.CountVarP(&g.verbose, "verbose", "v", "print progress and every DNS query on stderr (repeat for more)")
	pf.DurationVar(&g.timeout, "timeout", 30*time.Second,
		"deadline for the whole command (send: 15m by default, check-domain: 2m); each DNS query also has its own short timeout")

	root.AddCommand(newLookupCmd(g, s))
	root.AddCommand(newSendCmd(g, s))
	root.AddCommand(newDemoCmd(g, s))
	root.AddCommand(newTLSACmd(g, s))
	root.AddCommand(newCheckDomainCmd(g, s))
	return root
}

// context returns a context that ends at the command's deadline.
func (g *globalOptions) context(parent context.Context) (context.Context, context.CancelFunc) {
	if g.timeout <= 0 {
		return context.WithCancel(parent)
	}
	return context.WithTimeout(parent, g.timeout)
}

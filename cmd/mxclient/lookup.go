package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/miekg/dns"
	"github.com/spf13/cobra"

	"github.com/mxclient/mxclient/dnssec"
)

// lookupOptions are the inputs of `mxclient lookup`.
type lookupOptions struct {
	name  string
	qtype uint16
	trace bool
	json  bool
	// at is the validation time; zero means now.
	at time.Time
}

const lookupExitCodes = `Exit status:
  0   the answer is secure, or provably insecure (NXDOMAIN and NODATA included)
  64  usage error
  65  the answer is bogus: signatures or proofs are missing or wrong
  75  indeterminate: the data could not be obtained (timeouts, server failures)
  78  configuration error, such as a trust anchor file that does not parse`

func newLookupCmd(g *globalOptions, s *streams) *cobra.Command {
	o := &lookupOptions{}
	var at string
	cmd := &cobra.Command{
		Use:   "lookup NAME [TYPE]",
		Short: "Look up a DNS name and prove the answer with DNSSEC",
		Long: `Look up NAME (an absolute name; no search list is applied) with type TYPE
(default A), validate the answer from the trust anchor, and print it with its
security state: secure, insecure, bogus or indeterminate.

` + lookupExitCodes,
		Example: `  mxclient lookup --resolver 127.0.0.1 --trust-anchor lab.anchor www.example.test A
  mxclient lookup --trace example.net MX
  mxclient lookup --json --at 2026-01-01T00:00:00Z example.net DNSKEY`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) < 1 || len(args) > 2 {
				return usageErrorf("lookup takes NAME and an optional TYPE, but got %d arguments",
					len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.parseArgs(args, at); err != nil {
				return err
			}
			ctx, cancel := g.context(cmd.Context())
			defer cancel()
			return runLookup(ctx, g, o, s)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&o.trace, "trace", false, "print the chain of trust step by step")
	f.BoolVar(&o.json, "json", false, "print one JSON object instead of text")
	f.StringVar(&at, "at", "", "validate as of this time (RFC 3339, e.g. 2026-01-02T15:04:05Z) instead of now")
	return cmd
}

func (o *lookupOptions) parseArgs(args []string, at string) error {
	o.name = args[0]
	if _, err := dnssec.CanonicalQueryName(o.name); err != nil {
		return usageErrorf("invalid NAME: %v", err)
	}
	o.qtype = dns.TypeA
	if len(args) == 2 {
		t, err := parseType(args[1])
		if err != nil {
			return err
		}
		o.qtype = t
	}
	if at != "" {
		t, err := time.Parse(time.RFC3339, at)
		if err != nil {
			return usageErrorf("--at %q is not an RFC 3339 time such as 2026-01-02T15:04:05Z", at)
		}
		o.at = t
	}
	return nil
}

// parseType accepts a type mnemonic (MX, tlsa) or the generic TYPEnnn form.
func parseType(s string) (uint16, error) {
	up := strings.ToUpper(s)
	if t, ok := dns.StringToType[up]; ok {
		return t, nil
	}
	if n, ok := strings.CutPrefix(up, "TYPE"); ok {
		if v, err := strconv.ParseUint(n, 10, 16); err == nil {
			return uint16(v), nil
		}
	}
	return 0, usageErrorf("unknown record type %q: use a mnemonic such as A, AAAA, MX, TLSA, DS, DNSKEY, or TYPEnnn", s)
}

func runLookup(ctx context.Context, g *globalOptions, o *lookupOptions, s *streams) error {
	now := time.Now
	if !o.at.IsZero() {
		at := o.at
		now = func() time.Time { return at }
	}
	v, err := g.dns.validator(now, stderrLogf(s.errOut, g.verbose), s.errOut)
	if err != nil {
		return err
	}
	res, err := v.Lookup(ctx, o.name, o.qtype)
	if res == nil {
		return withCode(exitUsage, err)
	}
	if res.Security == dnssec.Indeterminate && timedOut(ctx, err) {
		fmt.Fprintf(s.errOut, "mxclient: the --timeout of %s ran out before the lookup finished; "+
			"check that the resolver responds (-v shows each query), or raise --timeout\n", g.timeout)
	}
	if o.json {
		if err := writeLookupJSON(s.out, res); err != nil {
			return withCode(exitSoftware, err)
		}
	} else {
		writeLookupText(s.out, res, o.trace)
	}
	return lookupExit(res)
}

// timedOut reports whether the command's deadline ended the lookup. A
// socket deadline set from ctx can fire a moment before ctx.Err reports the
// end, so the clock is checked as well as err.
func timedOut(ctx context.Context, err error) bool {
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	deadline, ok := ctx.Deadline()
	return ok && !time.Now().Before(deadline)
}

// lookupExit maps a result to the command's exit status. The reason is
// already in the output, so the error carries no message.
func lookupExit(res *dnssec.Result) error {
	switch res.Security {
	case dnssec.Secure, dnssec.Insecure:
		return nil
	case dnssec.Bogus:
		return withCode(exitDataErr, errSilent)
	}
	return withCode(exitTempFail, errSilent)
}

// errSilent ends a command with an exit code after the output has said why.
var errSilent = errors.New("")

func writeLookupText(w io.Writer, res *dnssec.Result, trace bool) {
	if trace {
		fmt.Fprintf(w, ";; chain of trust for %s %s\n", res.Name, dns.Type(res.Type).String())
		for i, st := range res.Chain {
			fmt.Fprintf(w, ";; %2d. %s\n", i+1, st)
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "; %s %s: %s, %s\n",
		res.Name, dns.Type(res.Type).String(), res.Security, dns.RcodeToString[res.Rcode])
	if res.Reason != nil {
		fmt.Fprintf(w, "; reason: %s\n", dnssec.Explain(res.Reason))
	}
	if !usable(res) {
		return
	}
	for _, rr := range res.Answer {
		fmt.Fprintln(w, rr.String())
	}
}

// usable reports whether the answer may be shown as data: bogus and
// indeterminate answers are not.
func usable(res *dnssec.Result) bool {
	return res.Security == dnssec.Secure || res.Security == dnssec.Insecure
}

// lookupJSON is the `mxclient lookup --json` document. Fields are only ever
// added, never renamed or removed.
type lookupJSON struct {
	Name     string        `json:"name"`
	Type     string        `json:"type"`
	Rcode    string        `json:"rcode"`
	Security string        `json:"security"`
	Answer   []string      `json:"answer"`
	Reason   string        `json:"reason,omitempty"`
	Chain    []dnssec.Step `json:"chain"`
}

func writeLookupJSON(w io.Writer, res *dnssec.Result) error {
	doc := lookupJSON{
		Name:     res.Name,
		Type:     dns.Type(res.Type).String(),
		Rcode:    dns.RcodeToString[res.Rcode],
		Security: res.Security.String(),
		Answer:   []string{},
		Chain:    res.Chain,
	}
	if doc.Chain == nil {
		doc.Chain = []dnssec.Step{}
	}
	if res.Reason != nil {
		doc.Reason = dnssec.Explain(res.Reason)
	}
	if usable(res) {
		for _, rr := range res.Answer {
			doc.Answer = append(doc.Answer, rr.String())
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}

package main

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/mxclient/mxclient/smtp"
)

const checkDomainExitCodes = `Exit status:
  0   every host with usable TLSA records authenticates, and at least one host
      accepts mail
  1   some host would fail or defer a delivery: a DANE failure, a host that
      cannot be reached, a bogus address or TLSA lookup
  2   no host can receive mail as published: every host fails, null MX,
      NXDOMAIN, or a bogus MX lookup
  3   the check could not be completed: a DNS answer is indeterminate, the
      --timeout ran out, or no connection could leave this machine
  64  usage error
  78  configuration error, such as a trust anchor file that does not parse`

// Defaults of check-domain.
const (
	// checkDefaultTimeout is the deadline of the whole check when --timeout
	// is not given: DNS lookups plus one round of probes whose stages have
	// checkStageTimeout each.
	checkDefaultTimeout = 2 * time.Minute
	// checkStageTimeout limits connecting, each reply and the TLS
	// handshake of a probe. RFC 5321 §4.5.3.2 allows a server 5 minutes
	// for its greeting, which is longer than a person waits for a check.
	checkStageTimeout = 30 * time.Second
	// checkParallel is the number of SMTP connections open at once.
	checkParallel = 8
)

// checkDomainOptions are the inputs of `mxclient check-domain`.
type checkDomainOptions struct {
	domain       string
	json         bool
	firstAddress bool
	noConnect    bool
	certDays     int
	sigHours     int
	helo         string
	parallel     int
	stageTimeout time.Duration
	proxy        string
	proxyCommand string
	// at is the validation time; zero means now.
	at time.Time
	// port is the SMTP port of the receivers, 25 when zero. Only tests
	// change it; it is never a user flag.
	port uint16
	// color, when set, forces coloured output on or off; nil means to
	// decide from the output stream and NO_COLOR.
	color *bool
}

func newCheckDomainCmd(g *globalOptions, s *streams) *cobra.Command {
	o := &checkDomainOptions{}
	var at string
	cmd := &cobra.Command{
		Use:   "check-domain DOMAIN",
		Short: "Report a domain's MX, DNSSEC, TLSA and STARTTLS state, and whether DANE holds",
		Long: `Look up the mail exchangers of DOMAIN, prove every answer with DNSSEC, and
report for each host its CNAME links, addresses, TLSA base domain and TLSA
records. Then open an SMTP session with every address (EHLO, STARTTLS, EHLO,
QUIT; never MAIL) and report the TLS version and cipher, the certificate
chain, which TLSA record matched at which depth, and a verdict per address,
per host and for the domain: dane-verified, dane-trusted, dane-failed,
tls-unauthenticated, tls-opportunistic, no-tls or unreachable. Every decision
comes from the same code as "mxclient send".

The report goes to standard output, as text or with --json as one JSON
document (schema in docs/json.md); progress and warnings go to standard error.
Connections go to port 25, at most --parallel at once. Without --timeout, the
whole check may take 2 minutes.

` + checkDomainExitCodes,
		Example: `  mxclient check-domain example.net
  mxclient check-domain --json --first-address example.net
  mxclient check-domain --no-connect --at 2026-01-01T00:00:00Z example.net`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageErrorf("check-domain takes one DOMAIN, but got %d arguments", len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.parseArgs(args, at); err != nil {
				return err
			}
			if !cmd.Flags().Changed("timeout") {
				g.timeout = checkDefaultTimeout
			}
			ctx, cancel := g.context(cmd.Context())
			defer cancel()
			return runCheckDomain(ctx, g, o, s)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&o.json, "json", false, "print one JSON document instead of text")
	f.BoolVar(&o.firstAddress, "first-address", false,
		"probe one address per host, the lowest (IPv4 before IPv6), instead of every address")
	f.BoolVar(&o.noConnect, "no-connect", false, "check only the DNS: open no SMTP connection")
	f.IntVar(&o.certDays, "cert-days", 30, "warn about certificates that expire within this many days")
	f.IntVar(&o.sigHours, "sig-hours", 48, "warn about DNSSEC signatures that expire within this many hours")
	f.StringVar(&o.helo, "helo", "", "name for EHLO (default: this host's name)")
	f.IntVar(&o.parallel, "parallel", checkParallel, "maximum number of SMTP connections open at once")
	f.DurationVar(&o.stageTimeout, "smtp-timeout", checkStageTimeout,
		"limit for connecting, for each server reply and for the TLS handshake")
	f.StringVar(&at, "at", "", "validate DNSSEC and certificate dates as of this time "+
		"(RFC 3339, e.g. 2026-01-02T15:04:05Z) instead of now")
	f.StringVar(&o.proxy, "proxy", "", "carry SMTP connections through a SOCKS5 proxy, socks5://HOST:PORT")
	f.StringVar(&o.proxyCommand, "proxy-command", "",
		"carry SMTP connections through a command's standard input and output; %h is the address, %p the port")
	return cmd
}

func (o *checkDomainOptions) parseArgs(args []string, at string) error {
	if strings.HasPrefix(args[0], "[") {
		return usageErrorf("check-domain takes a domain name, not the address literal %s", args[0])
	}
	ascii, err := smtp.ASCIIDomain(args[0])
	if err != nil {
		return usageErrorf("invalid DOMAIN %q: %v", args[0], err)
	}
	o.domain = ascii
	if at != "" {
		t, err := time.Parse(time.RFC3339, at)
		if err != nil {
			return usageErrorf("--at %q is not an RFC 3339 time such as 2026-01-02T15:04:05Z", at)
		}
		o.at = t
	}
	switch {
	case o.certDays < 0 || o.sigHours < 0:
		return usageErrorf("--cert-days and --sig-hours must not be negative")
	case o.parallel < 1:
		return usageErrorf("--parallel must be at least 1")
	case o.stageTimeout <= 0:
		return usageErrorf("--smtp-timeout must be positive")
	case o.proxy != "" && o.proxyCommand != "":
		return usageErrorf("--proxy and --proxy-command cannot be used together")
	}
	return nil
}

// now returns the validation time: --at, or the clock.
func (o *checkDomainOptions) now() time.Time {
	if !o.at.IsZero() {
		return o.at
	}
	return time.Now()
}

func runCheckDomain(ctx context.Context, g *globalOptions, o *checkDomainOptions, s *streams) error {
	if !o.noConnect && o.helo == "" {
		name, err := os.Hostname()
		if err != nil || name == "" {
			return usageErrorf("cannot tell this host's name (%v); give --helo NAME", err)
		}
		o.helo = name
	}
	dialer, err := (&sendOptions{proxy: o.proxy, proxyCommand: o.proxyCommand}).dialer()
	if err != nil {
		return err
	}
	at := o.now()
	clock := func() time.Time { return at }
	if o.at.IsZero() {
		clock = time.Now
	}
	v, err := g.dns.validator(clock, stderrLogf(s.errOut, g.verbose), s.errOut)
	if err != nil {
		return err
	}

	c := &checker{v: v, o: o, now: at, clock: clock, dialer: dialer, logf: stderrLogf(s.errOut, g.verbose)}
	rep := c.check(ctx)
	if rep.Incomplete != "" {
		fmt.Fprintf(s.errOut, "mxclient: warning: %s\n", rep.Incomplete)
	} else if noneConnected(rep) {
		fmt.Fprintf(s.errOut, "mxclient: warning: no connection to port %d succeeded; if this network "+
			"blocks outgoing connections to port 25, run the check from another network or with --proxy\n",
			cmp.Or(o.port, 25))
	}
	if o.json {
		enc := json.NewEncoder(s.out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return withCode(exitSoftware, err)
		}
	} else {
		writeCheckText(s.out, rep, o.useColor(s))
	}
	if rep.ExitStatus == exitOK {
		return nil
	}
	return withCode(rep.ExitStatus, errSilent)
}

// useColor reports whether the text report may use colour: only when
// standard output is a character device, as a terminal is, and never when
// NO_COLOR is set to a non-empty value or TERM is "dumb". /dev/null is a
// character device too, which does no harm.
func (o *checkDomainOptions) useColor(s *streams) bool {
	if o.color != nil {
		return *o.color
	}
	if os.Getenv("NO_COLOR") != "" || os.Getenv("TERM") == "dumb" {
		return false
	}
	f, ok := s.out.(*os.File)
	if !ok {
		return false
	}
	info, err := f.Stat()
	return err == nil && info.Mode()&os.ModeCharDevice != 0
}

// exitStatusOf maps a finished report to the exit status: incomplete
// checks first, then a domain where no host can receive mail, then any
// host or address that would fail or defer a delivery.
func exitStatusOf(rep *checkReport) int {
	switch {
	case rep.Incomplete != "":
		return exitIncomplete
	case rep.MX.Status != mxFound && rep.MX.Status != mxImplicit:
		return exitNoReceiver
	}
	accepting, failing := 0, 0
	for _, h := range rep.Hosts {
		if h.AcceptsMail {
			accepting++
		}
		if !h.Deliverable {
			failing++
		}
	}
	switch {
	case accepting == 0:
		return exitNoReceiver
	case failing > 0:
		return exitCheckFailed
	}
	return exitOK
}

// noneConnected reports whether addresses were probed and no connection
// succeeded.
func noneConnected(rep *checkReport) bool {
	probed := false
	for _, h := range rep.Hosts {
		for _, a := range h.Addresses {
			if a.Connected {
				return false
			}
			probed = probed || a.Probed
		}
	}
	return probed
}

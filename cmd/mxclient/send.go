package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"os/user"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/mxclient/mxclient/smtp"
)

// sendOptions are the inputs of `mxclient send`.
type sendOptions struct {
	from     string
	fromSet  bool
	fullName string
	// extract takes the recipients from the To, Cc and Bcc fields (-t).
	extract      bool
	ignoreDots   bool
	sendmailOpts []string
	bodyType     string
	dsn          string
	deliveryMode string
	helo         string
	requireTLS   bool
	requireDANE  bool
	quiet        bool
	maxAddresses int
	maxSessions  int
	proxy        string
	proxyCommand string
	recipients   []string
	// port is the SMTP port of the receivers. Only mxclient demo changes
	// it, to reach receivers on high ports; it is never a user flag.
	port uint16
	// now feeds DANE-TA certificate dates; nil means time.Now.
	now func() time.Time
}

// sendDefaultTimeout is the deadline of a whole delivery when --timeout is
// not given. RFC 5321 §4.5.3.2's stage timeouts add up to more than half
// an hour for one host; a queue in front retries after 75.
const sendDefaultTimeout = 15 * time.Minute

const sendExitCodes = `Exit status (sysexits):
  0   delivered to every recipient
  64  usage error
  65  invalid address, or a message that cannot be used
  67  a recipient was rejected (5xx reply to RCPT)
  68  the domain does not exist (proven NXDOMAIN) or accepts no mail (null MX)
  69  other permanent refusal: 5xx to MAIL or DATA, a message over the server's
      SIZE, a non-ASCII address to a server without SMTPUTF8
  75  temporary: every DNS, DNSSEC, DANE, TLS and connection problem, 4xx
      replies, and local faults such as an unreadable standard input or trust
      anchor file; a queue in front should try again later`

func newSendCmd(g *globalOptions, s *streams) *cobra.Command {
	o := &sendOptions{}
	cmd := &cobra.Command{
		Use:   "send [-f SENDER] [flags] RECIPIENT... < message",
		Short: "Deliver a message to each recipient's mail exchanger, under DANE where published",
		Long: `Read an RFC 5322 message from standard input and deliver it straight to the
mail exchangers of each recipient's domain. Every DNS answer is proven by the
built-in DNSSEC validator; where a host publishes usable TLSA records, the
message is sent only over TLS to a server whose certificate they authenticate
(RFC 7672). Recipients of one domain share one transaction.

Progress and the SMTP dialogue go to standard output, errors and warnings to
standard error. Invoked as "sendmail", mxclient behaves as "mxclient send" and
accepts the options mail programs pass to sendmail (-f, -F, -t, -i, -oi, -oem,
-o*, -B, -N, -bm, -v).

` + sendExitCodes,
		Example: `  mxclient send -f me@example.org you@example.net < message.eml
  mxclient send --require-dane -q -f '' postmaster@example.net < bounce.eml`,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.recipients = args
			o.fromSet = cmd.Flags().Changed("from")
			if !cmd.Flags().Changed("timeout") {
				g.timeout = sendDefaultTimeout
			}
			ctx, cancel := g.context(cmd.Context())
			defer cancel()
			return runSend(ctx, g, o, s)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.from, "from", "f", "", "envelope sender (reverse-path); '' or '<>' for the null sender (default: LOGIN@HOSTNAME)")
	f.StringVarP(&o.fullName, "full-name", "F", "", "full name of the sender, for a From field the message lacks")
	f.BoolVarP(&o.extract, "extract-recipients", "t", false, "take recipients from the To, Cc and Bcc fields; Bcc is removed")
	f.BoolVarP(&o.ignoreDots, "ignore-dots", "i", false, "accepted for sendmail; a line with a lone dot is always data")
	f.StringArrayVarP(&o.sendmailOpts, "option", "o", nil, "sendmail option such as -oi or -oem; -oi is honoured, others are accepted and ignored")
	f.StringVarP(&o.bodyType, "body-type", "B", "", "sendmail body type (7BIT or 8BITMIME); the content decides what is declared")
	f.StringVarP(&o.dsn, "dsn", "N", "", "sendmail delivery status notification request; accepted and ignored")
	f.StringVarP(&o.deliveryMode, "mode", "b", "m", "sendmail mode; only m (deliver mail) is supported")
	f.StringVar(&o.helo, "helo", "", "name for EHLO (default: this host's name)")
	f.BoolVar(&o.requireTLS, "require-tls", false, "never send in plaintext")
	f.BoolVar(&o.requireDANE, "require-dane", false, "deliver only to hosts that DANE authenticates")
	f.BoolVarP(&o.quiet, "quiet", "q", false, "print nothing on standard output")
	f.IntVar(&o.maxAddresses, "max-addresses", smtp.DefaultMaxAddresses, "most addresses to try per domain")
	f.IntVar(&o.maxSessions, "max-sessions", smtp.DefaultMaxSessions, "most SMTP sessions to complete per domain")
	f.StringVar(&o.proxy, "proxy", "", "carry SMTP connections through a SOCKS5 proxy, socks5://HOST:PORT")
	f.StringVar(&o.proxyCommand, "proxy-command", "", "carry SMTP connections through a command's standard input and output; %h is the address, %p the port")
	return cmd
}

func runSend(ctx context.Context, g *globalOptions, o *sendOptions, s *streams) error {
	// A queue may stop reading our output: write errors must not kill us.
	signal.Ignore(syscall.SIGPIPE)
	if err := o.check(); err != nil {
		return err
	}
	var out io.Writer = io.Discard
	if !o.quiet {
		// Standard output may be a pipe that fills up or closes: it must
		// never hold up or abort a delivery.
		progress := smtp.NewProgressWriter(s.out)
		defer progress.Close(time.Second)
		out = progress
	}
	warnf := func(format string, args ...any) {
		fmt.Fprintf(s.errOut, "mxclient: warning: "+format+"\n", args...)
	}
	if err := o.defaults(warnf); err != nil {
		return err
	}
	dialer, err := o.dialer()
	if err != nil {
		return err
	}

	msg, recipients, utf8Header, err := readSendMessage(s.in, o)
	if err != nil {
		return err
	}
	defer msg.Close()
	if msg.FoldedLines() > 0 {
		warnf("%d lines longer than 998 octets were folded", msg.FoldedLines())
	}

	v, err := g.dns.validator(time.Now, stderrLogf(s.errOut, g.verbose), s.errOut)
	if err != nil {
		if exitCode(err) == exitConfig {
			// A queue must keep the message until the configuration is fixed.
			return withCode(exitTempFail, err)
		}
		return err
	}
	d := &smtp.Delivery{
		Validator: v, Helo: o.helo, From: o.from, Message: msg, UTF8: needsUTF8(o.from, recipients, utf8Header),
		Dialer: dialer, Port: o.port, RequireTLS: o.requireTLS, RequireDANE: o.requireDANE,
		MaxAddresses: o.maxAddresses, MaxSessions: o.maxSessions, Now: o.now,
		Progress: out, Warnf: warnf,
	}
	outcomes := deliverAll(ctx, d, recipients)
	report(out, s.errOut, outcomes)
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		fmt.Fprintf(s.errOut, "mxclient: the --timeout of %s ran out before the delivery finished\n", g.timeout)
	}
	return sendExit(outcomes)
}

// check rejects flag values that sendmail would reject.
func (o *sendOptions) check() error {
	if o.deliveryMode != "m" {
		return usageErrorf("-b%s is not supported: mxclient only delivers mail (-bm)", o.deliveryMode)
	}
	if !o.extract && len(o.recipients) == 0 {
		return usageErrorf("no recipients: give at least one address, or -t to read them from the message")
	}
	if o.proxy != "" && o.proxyCommand != "" {
		return usageErrorf("--proxy and --proxy-command cannot be used together")
	}
	if o.maxAddresses < 1 || o.maxSessions < 1 {
		return usageErrorf("--max-addresses and --max-sessions must be at least 1")
	}
	for _, opt := range o.sendmailOpts {
		if opt == "i" {
			o.ignoreDots = true
		}
	}
	switch strings.ToUpper(o.bodyType) {
	case "", "7BIT", "8BITMIME":
	default:
		return usageErrorf("-B %s: use 7BIT or 8BITMIME", o.bodyType)
	}
	return nil
}

// defaults fills in the sender and the EHLO name.
func (o *sendOptions) defaults(warnf func(string, ...any)) error {
	host := o.helo
	if host == "" {
		name, err := os.Hostname()
		if err != nil || name == "" {
			return usageErrorf("cannot tell this host's name (%v); give --helo NAME", err)
		}
		host = name
		if !strings.Contains(name, ".") {
			warnf("the host name %q is not fully qualified; receivers may reject it: give --helo NAME", name)
		}
		o.helo = name
	}
	switch {
	case o.fromSet && (o.from == "" || o.from == "<>"):
		o.from = ""
	case o.fromSet:
		addr, err := smtp.ParseAddress(o.from)
		if err != nil {
			return withCode(exitDataErr, fmt.Errorf("invalid sender -f %q: %w", o.from, err))
		}
		o.from = addr.String()
	default:
		login := "postmaster"
		if u, err := user.Current(); err == nil && u.Username != "" {
			login = u.Username
		}
		o.from = login + "@" + strings.TrimSuffix(host, ".")
	}
	return nil
}

func (o *sendOptions) dialer() (smtp.Dialer, error) {
	switch {
	case o.proxy != "":
		d, err := smtp.NewSOCKS5Dialer(o.proxy)
		if err != nil {
			return nil, usageErrorf("invalid --proxy: %v", err)
		}
		return d, nil
	case o.proxyCommand != "":
		d, err := smtp.NewProxyCommand(o.proxyCommand)
		if err != nil {
			return nil, usageErrorf("invalid --proxy-command: %v", err)
		}
		return d, nil
	}
	return nil, nil
}

// deliverAll groups the recipients by domain and delivers to each domain.
func deliverAll(ctx context.Context, d *smtp.Delivery, recipients []smtp.Address) []smtp.Outcome {
	var order []string
	byDomain := map[string][]string{}
	for _, r := range recipients {
		key := r.Domain
		if _, ok := byDomain[key]; !ok {
			order = append(order, key)
		}
		byDomain[key] = append(byDomain[key], r.String())
	}
	var outcomes []smtp.Outcome
	for _, domain := range order {
		outcomes = append(outcomes, d.Deliver(ctx, domain, byDomain[domain])...)
	}
	return outcomes
}

// report prints a summary line per recipient; deferrals and failures also
// go to stderr with their reason.
func report(out, errOut io.Writer, outcomes []smtp.Outcome) {
	for _, o := range outcomes {
		switch o.Status {
		case smtp.Delivered:
			fmt.Fprintf(out, "%s: delivered to %s\n", o.Recipient, o.Host)
		default:
			fmt.Fprintf(out, "%s: %s: %v\n", o.Recipient, o.Status, o.Err)
			fmt.Fprintf(errOut, "mxclient: %s: %s: %v\n", o.Recipient, o.Status, o.Err)
		}
	}
}

// sendExit maps the outcomes to the exit status: 0 when all were
// delivered, the code of the first permanent failure if any, else 75.
func sendExit(outcomes []smtp.Outcome) error {
	deferred := false
	for _, o := range outcomes {
		switch o.Status {
		case smtp.Failed:
			return withCode(failureCode(o.Kind), errSilent)
		case smtp.Deferred:
			deferred = true
		}
	}
	if deferred {
		return withCode(exitTempFail, errSilent)
	}
	return nil
}

// failureCode maps a permanent failure to its sysexits code.
func failureCode(k smtp.FailureKind) int {
	switch k {
	case smtp.RecipientRejected:
		return exitNoUser
	case smtp.DomainUnroutable:
		return exitNoHost
	case smtp.InvalidAddress:
		return exitDataErr
	}
	return exitUnavailable
}

package smtp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/netip"
	"strings"
	"time"

	"github.com/mxclient/mxclient/dnssec"
)

// Defaults for Delivery.
const (
	// DefaultMaxAddresses bounds the addresses tried per delivery, as
	// Postfix's smtp_mx_address_limit (5) does.
	DefaultMaxAddresses = 5
	// DefaultMaxSessions bounds the SMTP sessions that get past the
	// greeting per delivery, as Postfix's smtp_mx_session_limit (2) does.
	DefaultMaxSessions = 2
)

// Delivery sends one message to the recipients of one domain, straight to
// the domain's mail exchangers, under the TLS policy that DNSSEC and DANE
// give each of them.
type Delivery struct {
	Validator *dnssec.Validator
	// Helo is the client's EHLO name.
	Helo string
	// From is the reverse-path; "" is the null reverse-path.
	From    string
	Message *Message
	// UTF8 marks a message that needs SMTPUTF8 (RFC 6531).
	UTF8 bool
	// Dialer carries connections, nil for direct ones.
	Dialer Dialer
	// Port is the SMTP port, 25 when zero.
	Port uint16
	// RequireTLS refuses plaintext with every host.
	RequireTLS bool
	// RequireDANE uses only hosts that DANE authenticates.
	RequireDANE  bool
	MaxAddresses int
	MaxSessions  int
	Timeouts     Timeouts
	// Now feeds DANE-TA certificate date checks; nil means time.Now.
	Now func() time.Time
	// Progress receives the DNS findings, the decision per host and the
	// SMTP dialogue. Write errors are ignored; a writer that may block, such
	// as standard output, belongs behind a ProgressWriter.
	Progress io.Writer
	// Warnf, when not nil, receives warnings.
	Warnf func(format string, args ...any)
	// Rand orders hosts and addresses; nil means a random source.
	Rand *rand.Rand
}

// Status is the end state of one recipient.
type Status int

const (
	// Delivered: the server accepted the message for the recipient.
	Delivered Status = iota
	// Deferred: try again later.
	Deferred
	// Failed: the delivery failed for good.
	Failed
)

func (s Status) String() string {
	switch s {
	case Delivered:
		return "delivered"
	case Deferred:
		return "deferred"
	}
	return "failed"
}

// FailureKind classifies permanent failures, for the exit status.
type FailureKind int

const (
	// NoFailure: delivered or deferred.
	NoFailure FailureKind = iota
	// RecipientRejected: a 5xx reply to RCPT.
	RecipientRejected
	// DomainUnroutable: the domain does not exist or accepts no mail.
	DomainUnroutable
	// MessageRefused: a 5xx reply to MAIL or DATA, a message over the
	// server's SIZE, or an address that needs SMTPUTF8 the server lacks.
	MessageRefused
	// InvalidAddress: the address cannot be used at all.
	InvalidAddress
)

// Outcome is the end state of the delivery to one recipient.
type Outcome struct {
	Recipient string
	Status    Status
	Kind      FailureKind
	// Host is the mail exchanger that gave the final word, if any.
	Host string
	// Err explains a deferral or failure. A deferral after the message may
	// have been delivered wraps ErrMaybeDelivered.
	Err error
}

// delivery is the state of one Deliver call.
type delivery struct {
	d       *Delivery
	ctx     context.Context
	domain  string
	pending []string
	done    []Outcome
	// lastErr is the reason the pending recipients were not delivered.
	lastErr   error
	addresses int
	sessions  int
	maybeSent bool
	progress  *lineWriter
}

// Deliver delivers the message to recipients, which all share domain
// (the part after "@", or an address literal), and returns an Outcome per
// recipient, in order.
func (d *Delivery) Deliver(ctx context.Context, domain string, recipients []string) []Outcome {
	st := &delivery{d: d, ctx: ctx, domain: domain, pending: append([]string(nil), recipients...),
		progress: &lineWriter{w: d.Progress}}
	route, err := FindRoute(ctx, d.Validator, domain, RouteOptions{Rand: d.Rand})
	if err != nil {
		return st.finishRoute(err)
	}
	st.reportRoute(route)
	for _, h := range st.hostsOf(route) {
		if len(st.pending) == 0 || st.maybeSent || st.exhausted() {
			break
		}
		st.tryHost(route, h)
	}
	return st.finish()
}

// hostsOf returns the hosts to try: the MX hosts, or the address literal.
func (st *delivery) hostsOf(route *Route) []*Host {
	if route.Literal.IsValid() {
		return []*Host{{Name: route.Domain, Addrs: []netip.Addr{route.Literal}, Policy: PolicyOpportunistic}}
	}
	return route.Hosts
}

func (st *delivery) exhausted() bool {
	return st.addresses >= orDefault(st.d.MaxAddresses, DefaultMaxAddresses) ||
		st.sessions >= orDefault(st.d.MaxSessions, DefaultMaxSessions)
}

func orDefault(v, def int) int {
	if v <= 0 {
		return def
	}
	return v
}

// finishRoute turns a routing failure into the outcome of every recipient.
func (st *delivery) finishRoute(err error) []Outcome {
	status, kind := Deferred, NoFailure
	var re *RouteError
	if errors.As(err, &re) {
		switch re.Kind {
		case NoSuchDomain, NullMX:
			status, kind = Failed, DomainUnroutable
		case BadDomain:
			status, kind = Failed, InvalidAddress
		}
	}
	st.progress.printf("%s: %v", st.domain, err)
	var out []Outcome
	for _, r := range st.pending {
		out = append(out, Outcome{Recipient: r, Status: status, Kind: kind, Err: err})
	}
	return out
}

// finish gives the recipients still pending their deferral.
func (st *delivery) finish() []Outcome {
	err := st.lastErr
	if err == nil {
		err = errors.New("no mail exchanger could be tried")
	}
	for _, r := range st.pending {
		st.done = append(st.done, Outcome{Recipient: r, Status: Deferred, Err: err})
	}
	return st.done
}

func (st *delivery) settle(rcpt string, status Status, kind FailureKind, host string, err error) {
	st.done = append(st.done, Outcome{Recipient: rcpt, Status: status, Kind: kind, Host: host, Err: err})
	st.pending = removeString(st.pending, rcpt)
}

func removeString(list []string, s string) []string {
	out := list[:0:0]
	for _, v := range list {
		if v != s {
			out = append(out, v)
		}
	}
	return out
}

// reportRoute prints the DNS findings.
func (st *delivery) reportRoute(route *Route) {
	p := st.progress
	if route.Literal.IsValid() {
		p.printf("%s: address literal, no DNS and no DANE", route.Domain)
		return
	}
	if route.Implicit {
		p.printf("MX %s: none (%s), the domain is its own mail exchanger", route.Domain, route.MX.Security)
	} else {
		p.printf("MX %s: %s", route.Domain, route.MX.Security)
	}
	for _, h := range route.Hosts {
		addrs := make([]string, len(h.Addrs))
		for i, a := range h.Addrs {
			addrs[i] = a.String()
		}
		line := fmt.Sprintf("  %d %s: %s", h.Preference, h.Name, h.Policy)
		if h.Expanded != "" && h.Expanded != h.Name {
			line += ", CNAME to " + h.Expanded
		}
		if len(addrs) > 0 {
			line += fmt.Sprintf(", addresses %s (%s)", strings.Join(addrs, " "), h.AddrSecurity)
		}
		if h.TLSA != nil {
			line += fmt.Sprintf(", TLSA at _25._tcp.%s (%s, %d usable)",
				h.TLSA.BaseDomain, plural(len(h.TLSA.Set.Records), "record"), len(h.TLSA.Set.Usable()))
		}
		if h.Err != nil {
			line += ": " + h.Err.Error()
		}
		p.printf("%s", line)
	}
}

// tryHost tries the addresses of one host until the pending recipients
// have an answer or the host is used up.
func (st *delivery) tryHost(route *Route, h *Host) {
	d := st.d
	if h.Policy == PolicyUnusable {
		st.lastErr = fmt.Errorf("mail exchanger %s skipped: %w", h.Name, h.Err)
		return
	}
	if d.RequireDANE && h.Policy != PolicyDANEVerified && h.Policy != PolicyDANETrusted {
		st.lastErr = fmt.Errorf("mail exchanger %s skipped: --require-dane, and DANE does not authenticate it (%s)",
			h.Name, h.Policy)
		st.progress.printf("%s: skipped, not authenticated by DANE", h.Name)
		return
	}
	for _, addr := range h.Addrs {
		if len(st.pending) == 0 || st.maybeSent || st.exhausted() {
			return
		}
		st.addresses++
		if next := st.tryAddress(route, h, addr); !next {
			return
		}
	}
}

// plural returns "1 record" or "n records".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

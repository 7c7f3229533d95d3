package smtp

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/mxclient/mxclient/dane"
)

// tryAddress runs one SMTP session with one address of h. It reports
// whether the delivery should go on to the next address.
func (st *delivery) tryAddress(route *Route, h *Host, addr netip.Addr) bool {
	d := st.d
	port := d.Port
	if port == 0 {
		port = 25
	}
	ap := netip.AddrPortFrom(addr, port)
	cfg, result := st.sessionConfig(route, h)

	sess, err := st.open(ap, cfg)
	if err != nil && errors.Is(err, ErrTLSFailed) && !cfg.RequireTLS {
		// A failed opportunistic handshake: Postfix waits for a later queue
		// run to try plaintext; with no queue, try it at once.
		st.warnf("%s (%s): TLS handshake failed, trying again without TLS: %v", h.Name, addr, err)
		cfg.TLS = nil
		sess, err = st.open(ap, cfg)
	}
	if err != nil {
		st.lastErr = fmt.Errorf("%s (%s): %w", h.Name, addr, err)
		st.progress.printf("%s (%s): %v", h.Name, addr, err)
		return true
	}
	defer sess.Close()
	st.sessions++
	st.reportTLS(sess, h, result)
	st.transact(sess, h, addr)
	sess.Quit()
	return true
}

// open connects to ap and starts a session on it.
func (st *delivery) open(ap netip.AddrPort, cfg SessionConfig) (*Session, error) {
	timeouts := cfg.Timeouts.withDefaults()
	ctx, cancel := context.WithTimeout(st.ctx, timeouts.Connect)
	defer cancel()
	st.progress.printf("connecting to %s", ap)
	conn, err := Dial(ctx, ap, st.d.Dialer)
	if err != nil {
		return nil, err
	}
	return NewSession(st.ctx, conn, cfg)
}

// sessionConfig builds the session's TLS setup from the host's policy,
// with the DANE result that names the matched record after a handshake.
func (st *delivery) sessionConfig(route *Route, h *Host) (SessionConfig, *dane.Result) {
	d := st.d
	base := SessionConfig{Helo: d.Helo, Transcript: st.progress, Timeouts: d.Timeouts}
	return ConfigFor(route, h, base, d.RequireTLS, d.Now)
}

// ConfigFor returns base with the TLS setup that h's policy demands: the
// DANE check for DANE hosts, mandatory unauthenticated TLS for hosts with
// only unusable TLSA records, and opportunistic TLS otherwise (mandatory
// when requireTLS is set). now feeds DANE-TA certificate dates. For a DANE
// host it also returns the dane.Result that names the matched record once
// a handshake has completed; it is nil for other policies.
func ConfigFor(route *Route, h *Host, base SessionConfig, requireTLS bool, now func() time.Time) (SessionConfig, *dane.Result) {
	cfg := base
	switch h.Policy {
	case PolicyDANEVerified, PolicyDANETrusted:
		ids := h.ReferenceIDs(route.Domain)
		v := &dane.Verifier{Set: h.TLSA.Set, BaseDomain: ids[0], Names: ids[1:], Now: now}
		var result *dane.Result
		cfg.TLS, result = v.TLSConfig()
		cfg.RequireTLS = true
		return cfg, result
	case PolicyTLSUnauthenticated:
		cfg.TLS = OpportunisticTLS(strings.TrimSuffix(h.TLSA.BaseDomain, "."))
		cfg.RequireTLS = true
	default:
		name := ""
		if !route.Literal.IsValid() {
			name = strings.TrimSuffix(h.Name, ".")
		}
		cfg.TLS = OpportunisticTLS(name)
		cfg.RequireTLS = requireTLS
	}
	return cfg, nil
}

func (st *delivery) reportTLS(sess *Session, h *Host, result *dane.Result) {
	cs, ok := sess.TLS()
	if !ok {
		st.progress.printf("%s: no TLS (%s)", h.Name, h.Policy)
		return
	}
	line := fmt.Sprintf("%s: %s, %s, %s", h.Name, tls.VersionName(cs.Version), tls.CipherSuiteName(cs.CipherSuite), h.Policy)
	if result != nil {
		if m := result.Match(cs); m != nil {
			line += fmt.Sprintf(", TLSA record %d (%s) matched at depth %d",
				m.Record.Index+1, dane.Describe(m.Record.TLSA), m.Depth)
		}
	}
	st.progress.printf("%s", line)
}

// transact runs mail transactions on an open session until every pending
// recipient has an answer from this host, or the host fails.
func (st *delivery) transact(sess *Session, h *Host, addr netip.Addr) {
	d := st.d
	opts := MailOptions{Size: d.Message.Size(), EightBit: d.Message.Has8Bit(), UTF8: d.UTF8}
	if opts.EightBit {
		if _, ok := sess.Extension("8BITMIME"); !ok {
			st.warnf("%s does not offer 8BITMIME; sending the 8-bit message as it is", h.Name)
		}
	}
	for len(st.pending) > 0 {
		batch, ok := st.oneTransaction(sess, h, addr, opts)
		if !ok || batch == 0 {
			return
		}
	}
}

// oneTransaction sends MAIL, RCPT for the pending recipients and DATA. It
// returns how many recipients it settled and whether the session can go
// on with another transaction.
func (st *delivery) oneTransaction(sess *Session, h *Host, addr netip.Addr, opts MailOptions) (int, bool) {
	d := st.d
	where := fmt.Sprintf("%s (%s)", h.Name, addr)
	if err := sess.Mail(d.From, opts); err != nil {
		if permanentMailError(err) {
			kind := MessageRefused
			if errors.Is(err, ErrInvalidAddress) {
				kind = InvalidAddress
			}
			for _, r := range st.pending {
				st.settle(r, Failed, kind, h.Name, fmt.Errorf("%s: %w", where, err))
			}
			return 0, false
		}
		st.lastErr = fmt.Errorf("%s: %w", where, err)
		return 0, false
	}

	var accepted, later []string
	for _, r := range st.pending {
		err := sess.Rcpt(r)
		var re *ReplyError
		switch {
		case err == nil:
			accepted = append(accepted, r)
		case errors.As(err, &re) && re.Permanent():
			st.settle(r, Failed, RecipientRejected, h.Name, fmt.Errorf("%s: %w", where, err))
		case errors.As(err, &re) && re.Code == 452 && len(accepted) > 0:
			// RFC 5321 §4.5.3.1.10: too many recipients; the rest go in
			// another transaction.
			later = append(later, r)
		case errors.As(err, &re):
			st.lastErr = fmt.Errorf("%s: %w", where, err)
		case errors.Is(err, ErrSMTPUTF8Required):
			st.settle(r, Failed, MessageRefused, h.Name, fmt.Errorf("%s: %w", where, err))
		case errors.Is(err, ErrInvalidAddress):
			// Nothing was sent; no other host would take it either.
			st.settle(r, Failed, InvalidAddress, h.Name, fmt.Errorf("%s: %w", where, err))
		default:
			// The connection failed: every recipient moves on.
			st.lastErr = fmt.Errorf("%s: %w", where, err)
			return 0, false
		}
	}
	if len(accepted) == 0 {
		sess.Reset()
		return 0, false
	}

	err := sess.Data(d.Message)
	var re *ReplyError
	switch {
	case err == nil:
		for _, r := range accepted {
			st.settle(r, Delivered, NoFailure, h.Name, nil)
		}
		return len(accepted), len(later) > 0
	case errors.Is(err, ErrMaybeDelivered):
		// Trying another host could deliver the message twice.
		st.maybeSent = true
		st.warnf("%s: the connection was lost after the message was sent; it may have been delivered", where)
		for _, r := range accepted {
			st.settle(r, Deferred, NoFailure, h.Name, fmt.Errorf("%s: %w", where, err))
		}
		return len(accepted), false
	case errors.As(err, &re) && re.Permanent():
		for _, r := range accepted {
			st.settle(r, Failed, MessageRefused, h.Name, fmt.Errorf("%s: %w", where, err))
		}
		return len(accepted), len(later) > 0
	}
	st.lastErr = fmt.Errorf("%s: %w", where, err)
	return 0, false
}

// permanentMailError reports a MAIL failure that no other host would
// change: a 5xx reply, a message over the SIZE limit, a need for SMTPUTF8
// the server lacks, or a reverse-path no SMTP command can carry.
func permanentMailError(err error) bool {
	var re *ReplyError
	return errors.As(err, &re) && re.Permanent() || errors.Is(err, ErrMessageTooLarge) ||
		errors.Is(err, ErrSMTPUTF8Required) || errors.Is(err, ErrInvalidAddress)
}

func (st *delivery) warnf(format string, args ...any) {
	if st.d.Warnf != nil {
		st.d.Warnf(format, args...)
	}
}

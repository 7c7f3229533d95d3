package smtp

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/mxclient/mxclient/dane"
	"github.com/mxclient/mxclient/dnssec"
)

// This file checks a route the way a delivery would use it, but sends no
// mail. ProbeAddress opens a session with one address of a host
// (greeting, EHLO, STARTTLS, EHLO, QUIT), records what the server
// presented, and judges the outcome under the host's policy. It serves
// `mxclient check-domain`, which thus shares FindRoute, ConfigFor, Dial
// and NewSession with `mxclient send`.

// Verdict is the conclusion about one address of a mail exchanger, about a
// host, or about a whole domain.
type Verdict int

const (
	// VerdictNotProbed: no session was opened, so only the DNS was checked.
	VerdictNotProbed Verdict = iota
	// VerdictDANEVerified: a secure MX RRset, and usable TLSA records that
	// authenticated the server's certificate chain.
	VerdictDANEVerified
	// VerdictDANETrusted: usable secure TLSA records that authenticated the
	// chain, below an insecure MX RRset (RFC 7672 §2.2.1).
	VerdictDANETrusted
	// VerdictTLSUnauthenticated: TLSA records exist but none is usable, and
	// the mandatory TLS came up.
	VerdictTLSUnauthenticated
	// VerdictTLSOpportunistic: no DANE, and TLS came up with any
	// certificate.
	VerdictTLSOpportunistic
	// VerdictNoTLS: the session stayed in plaintext or the TLS handshake
	// failed, where no usable TLSA records demand authentication.
	VerdictNoTLS
	// VerdictDANEFailed: usable TLSA records apply, but TLS did not come up
	// or did not authenticate the server. A TLSA lookup that was bogus or
	// could not be completed also gives it.
	VerdictDANEFailed
	// VerdictUnreachable: no SMTP session could be opened: no addresses, a
	// failed connection, a rejected greeting or EHLO, a timeout.
	VerdictUnreachable
)

var verdictNames = [...]string{
	VerdictNotProbed:          "not-probed",
	VerdictDANEVerified:       "dane-verified",
	VerdictDANETrusted:        "dane-trusted",
	VerdictTLSUnauthenticated: "tls-unauthenticated",
	VerdictTLSOpportunistic:   "tls-opportunistic",
	VerdictNoTLS:              "no-tls",
	VerdictDANEFailed:         "dane-failed",
	VerdictUnreachable:        "unreachable",
}

func (v Verdict) String() string {
	if v < 0 || int(v) >= len(verdictNames) {
		return fmt.Sprintf("Verdict(%d)", int(v))
	}
	return verdictNames[v]
}

// MarshalText encodes v as its name, such as "dane-verified", for JSON.
func (v Verdict) MarshalText() ([]byte, error) {
	return []byte(v.String()), nil
}

// Judgement is a verdict with its reason.
type Judgement struct {
	Verdict Verdict
	// Reason explains a verdict other than a success in one line.
	Reason string
	// Deliverable reports whether a delivery would go ahead: TLS as the
	// policy demands, or plaintext where the policy allows it. It is true
	// for VerdictNotProbed unless the DNS already rules the host out.
	Deliverable bool
}

// worse reports whether j is a worse outcome than k: anything that stops
// a delivery is worse than anything that does not, and within each group
// the order of verdictRank applies.
func (j Judgement) worse(k Judgement) bool {
	if j.Deliverable != k.Deliverable {
		return !j.Deliverable
	}
	return verdictRank[j.Verdict] > verdictRank[k.Verdict]
}

// verdictRank orders verdicts from the best to the worst. A DANE failure
// ranks above an unreachable address, because it is a fault of the
// published records that persists, where a connection failure may pass.
var verdictRank = map[Verdict]int{
	VerdictNotProbed:          0,
	VerdictDANEVerified:       1,
	VerdictDANETrusted:        2,
	VerdictTLSUnauthenticated: 3,
	VerdictTLSOpportunistic:   4,
	VerdictNoTLS:              5,
	VerdictUnreachable:        6,
	VerdictDANEFailed:         7,
}

// ProbeConfig configures ProbeAddress.
type ProbeConfig struct {
	// Helo is the client's name for EHLO.
	Helo string
	// Dialer carries connections, nil for direct ones.
	Dialer Dialer
	// Port is the SMTP port, 25 when zero.
	Port uint16
	// Timeouts limit each stage; Connect limits opening the connection.
	Timeouts Timeouts
	// Now feeds DANE-TA certificate date checks; nil means time.Now.
	Now func() time.Time
}

// Probe is the record of one session with one address of a mail
// exchanger.
type Probe struct {
	Addr netip.AddrPort
	// Connected is set once the TCP connection was open.
	Connected bool
	// Greeting is the server's first reply, one line per reply line with
	// its code, as received (control characters escaped).
	Greeting []string
	// EHLO is the reply to the first EHLO, or to HELO when EHLO was
	// rejected, before any TLS.
	EHLO []string
	// STARTTLSOffered is set when that reply listed STARTTLS.
	STARTTLSOffered bool
	// STARTTLSReply is the reply to the STARTTLS command, nil when it was
	// not sent.
	STARTTLSReply []string
	// TLS is the state of the completed handshake, nil without one.
	TLS *tls.ConnectionState
	// Chain is the certificate chain the server presented, leaf first. It
	// is set whenever the handshake got that far, also when the DANE
	// check rejected the chain.
	Chain []*x509.Certificate
	// Match is the TLSA record that authenticated the chain.
	Match *dane.Match
	// Mismatch lists every TLSA record tried when none matched.
	Mismatch *dane.MismatchError
	// Err is the error that ended the session, nil when it reached QUIT.
	Err error
	// Dialogue is the transcript of the session, one line per command or
	// reply line, prefixed ">>> " and "<<< ".
	Dialogue []string
	Judgement
}

// ProbeAddress opens an SMTP session with addr, an address of h, under
// h's policy, with the same configuration as a delivery (ConfigFor) but
// without RequireTLS for opportunistic hosts. It sends EHLO, STARTTLS
// when there is a TLS configuration and the server offers it, EHLO again
// and QUIT, and never MAIL. ctx bounds the whole session.
func ProbeAddress(ctx context.Context, route *Route, h *Host, addr netip.Addr, cfg ProbeConfig) *Probe {
	port := cfg.Port
	if port == 0 {
		port = 25
	}
	p := &Probe{Addr: netip.AddrPortFrom(addr, port)}
	rec := &dialogueRecorder{}
	base := SessionConfig{Helo: cfg.Helo, Transcript: rec, Timeouts: cfg.Timeouts}
	scfg, result := ConfigFor(route, h, base, false, cfg.Now)
	scfg.TLS = p.recordChain(scfg.TLS)

	timeouts := cfg.Timeouts.withDefaults()
	dialCtx, cancel := context.WithTimeout(ctx, timeouts.Connect)
	conn, err := Dial(dialCtx, p.Addr, cfg.Dialer)
	cancel()
	if err != nil {
		p.Err = err
		p.Judgement = p.judge(h)
		return p
	}
	p.Connected = true

	sess, err := NewSession(ctx, conn, scfg)
	if err == nil {
		if cs, ok := sess.TLS(); ok {
			p.TLS = &cs
			p.Chain = cs.PeerCertificates
			if result != nil {
				p.Match = result.Match(cs)
			}
		}
		sess.Quit()
	}
	p.Err = err
	errors.As(err, &p.Mismatch)
	rec.fill(p)
	p.Judgement = p.judge(h)
	return p
}

// recordChain returns a copy of cfg whose VerifyConnection first keeps
// the presented chain in p and then runs cfg's own check, unchanged, so
// that the chain is known even when that check rejects it.
func (p *Probe) recordChain(cfg *tls.Config) *tls.Config {
	if cfg == nil {
		return nil
	}
	c := cfg.Clone()
	check := cfg.VerifyConnection
	c.VerifyConnection = func(cs tls.ConnectionState) error {
		p.Chain = cs.PeerCertificates
		if check != nil {
			return check(cs)
		}
		return nil
	}
	return c
}

// judge decides the verdict of the session under h's policy, the way the
// delivery in tryAddress treats the same outcome.
func (p *Probe) judge(h *Host) Judgement {
	daneHost := h.Policy == PolicyDANEVerified || h.Policy == PolicyDANETrusted
	switch {
	case !p.Connected:
		return Judgement{Verdict: VerdictUnreachable, Reason: trimPrefix(p.Err)}
	case p.Err == nil && p.TLS != nil:
		return Judgement{Verdict: successVerdict(h.Policy), Deliverable: true}
	case p.Err == nil:
		// Only an opportunistic host gets here: the others require TLS.
		return Judgement{Verdict: VerdictNoTLS, Reason: p.plaintextReason(), Deliverable: true}
	case !errors.Is(p.Err, ErrTLSRequired) && !errors.Is(p.Err, ErrTLSFailed) &&
		!errors.Is(p.Err, ErrResponseInjection):
		return Judgement{Verdict: VerdictUnreachable, Reason: trimPrefix(p.Err)}
	case daneHost:
		return Judgement{Verdict: VerdictDANEFailed, Reason: p.tlsFailure()}
	case h.Policy == PolicyTLSUnauthenticated:
		return Judgement{Verdict: VerdictNoTLS, Reason: p.tlsFailure() + "; the TLSA records make TLS mandatory"}
	}
	// An opportunistic handshake failed. A delivery connects again and
	// sends in plaintext, except after STARTTLS response injection.
	retried := errors.Is(p.Err, ErrTLSFailed)
	reason := p.tlsFailure()
	if retried {
		reason += "; a delivery would connect again without TLS"
	}
	return Judgement{Verdict: VerdictNoTLS, Reason: reason, Deliverable: retried}
}

func successVerdict(p Policy) Verdict {
	switch p {
	case PolicyDANEVerified:
		return VerdictDANEVerified
	case PolicyDANETrusted:
		return VerdictDANETrusted
	case PolicyTLSUnauthenticated:
		return VerdictTLSUnauthenticated
	}
	return VerdictTLSOpportunistic
}

// plaintextReason returns the reason a session without a TLS requirement
// stayed in plaintext.
func (p *Probe) plaintextReason() string {
	if p.STARTTLSOffered && len(p.STARTTLSReply) > 0 {
		return "the server rejected STARTTLS: " + strings.Join(p.STARTTLSReply, " ")
	}
	return "the server does not offer STARTTLS"
}

// tlsFailure explains in one line why TLS did not come up or did not
// authenticate the server.
func (p *Probe) tlsFailure() string {
	switch {
	case errors.Is(p.Err, ErrResponseInjection):
		return "STARTTLS response injection: the server sent data after its 220 reply to STARTTLS " +
			"and before the TLS handshake"
	case !p.STARTTLSOffered:
		return "the server does not offer STARTTLS"
	case len(p.STARTTLSReply) > 0 && !strings.HasPrefix(p.STARTTLSReply[0], "220"):
		return "the server rejected STARTTLS: " + strings.Join(p.STARTTLSReply, " ")
	case p.Mismatch != nil:
		return mismatchReason(p.Mismatch)
	case errors.Is(p.Err, dane.ErrNoCertificate):
		return "the server sent no certificate"
	case len(p.STARTTLSReply) == 0:
		return "STARTTLS failed: " + trimPrefix(p.Err)
	}
	return "TLS handshake failed: " + trimPrefix(p.Err)
}

// mismatchReason names the failing TLSA record and why it failed, picking
// the most telling failure: a DANE-TA name mismatch, then a DANE-TA chain
// that does not verify (an expired certificate first), then no match.
func mismatchReason(e *dane.MismatchError) string {
	var best *dane.Attempt
	rank := func(a *dane.Attempt) int {
		switch {
		case a.Outcome == dane.NameMismatch:
			return 4
		case a.Outcome == dane.ChainInvalid && expired(a.Err):
			return 3
		case a.Outcome == dane.ChainInvalid:
			return 2
		case a.Outcome == dane.NoMatch:
			return 1
		}
		return 0
	}
	for i := range e.Attempts {
		if a := &e.Attempts[i]; rank(a) > 0 && (best == nil || rank(a) > rank(best)) {
			best = a
		}
	}
	if best == nil {
		return "no usable TLSA record to authenticate the server"
	}
	what := "no usable TLSA record matches"
	switch rank(best) {
	case 4:
		what = "name mismatch"
	case 3:
		what = "expired certificate in the DANE-TA chain"
	case 2:
		what = "the DANE-TA chain does not verify"
	}
	return fmt.Sprintf("%s: TLSA record %d (%s): %v", what, best.Record.Index+1,
		shortRecord(best.Record.TLSA), best.Err)
}

func expired(err error) bool {
	var ce x509.CertificateInvalidError
	return errors.As(err, &ce) && ce.Reason == x509.Expired
}

// shortRecord formats a TLSA record's data fields with the association
// data shortened to its first 8 and last 4 hexadecimal digits, for
// one-line messages: "3 1 1 0c72ab41…a7ab".
func shortRecord(t *dns.TLSA) string {
	data := t.Certificate
	if len(data) > 16 {
		data = data[:8] + "…" + data[len(data)-4:]
	}
	return fmt.Sprintf("%d %d %d %s", t.Usage, t.Selector, t.MatchingType, data)
}

// trimPrefix returns err's message without this package's "smtp: "
// prefix, for reasons that are shown after a host name.
func trimPrefix(err error) string {
	if err == nil {
		return ""
	}
	return strings.TrimPrefix(err.Error(), "smtp: ")
}

// JudgeHost combines the probes of a host's addresses into the host's
// judgement: the worst of them, so that one failing node of a host shows.
// A host that DNS already rules out is dane-failed when its TLSA lookup
// failed and unreachable otherwise, whatever the probes show. Probes with
// VerdictNotProbed count only when no address was probed.
func JudgeHost(h *Host, probes []*Probe) Judgement {
	if h.Policy == PolicyUnusable {
		v := VerdictUnreachable
		if len(h.Addrs) > 0 {
			// resolveHost sets the addresses before it looks up TLSA, so
			// the TLSA lookup is what failed.
			v = VerdictDANEFailed
		}
		return Judgement{Verdict: v, Reason: fmt.Sprint(h.Err)}
	}
	var worst *Judgement
	for _, p := range probes {
		if p.Verdict == VerdictNotProbed {
			continue
		}
		if worst == nil || p.Judgement.worse(*worst) {
			worst = &p.Judgement
		}
	}
	if worst == nil {
		return Judgement{Verdict: VerdictNotProbed, Deliverable: true}
	}
	return *worst
}

// WorstOf returns the worst of judgements, for the verdict of a domain,
// and its index; -1 for none.
func WorstOf(judgements []Judgement) (Judgement, int) {
	worst := -1
	for i, j := range judgements {
		if worst < 0 || j.worse(judgements[worst]) {
			worst = i
		}
	}
	if worst < 0 {
		return Judgement{}, -1
	}
	return judgements[worst], worst
}

// dialogueRecorder is the Transcript of a probe. It keeps every line, so
// that each reply can be matched to the command sent before it.
type dialogueRecorder struct {
	lines   []string
	partial string
}

var _ io.Writer = (*dialogueRecorder)(nil)

func (r *dialogueRecorder) Write(b []byte) (int, error) {
	r.partial += string(b)
	for {
		line, rest, ok := strings.Cut(r.partial, "\n")
		if !ok {
			break
		}
		r.lines = append(r.lines, line)
		r.partial = rest
	}
	return len(b), nil
}

// exchange is one command of a session, "" for the greeting, and the
// lines of the reply to it.
type exchange struct {
	verb  string
	reply []string
}

func (r *dialogueRecorder) exchanges() []exchange {
	list := []exchange{{}}
	for _, line := range r.lines {
		if sent, ok := strings.CutPrefix(line, ">>> "); ok {
			verb, _, _ := strings.Cut(sent, " ")
			list = append(list, exchange{verb: strings.ToUpper(verb)})
			continue
		}
		if received, ok := strings.CutPrefix(line, "<<< "); ok {
			last := &list[len(list)-1]
			last.reply = append(last.reply, received)
		}
	}
	return list
}

// fill sets the greeting, the EHLO or HELO reply before TLS and the
// STARTTLS reply of p from the recorded dialogue.
func (r *dialogueRecorder) fill(p *Probe) {
	p.Dialogue = r.lines
	startTLSSent := false
	for _, ex := range r.exchanges() {
		switch ex.verb {
		case "":
			p.Greeting = ex.reply
		case "EHLO", "HELO":
			// A HELO reply replaces the reply of the rejected EHLO; the
			// EHLO after STARTTLS is not recorded here.
			if !startTLSSent && (p.EHLO == nil || ex.verb == "HELO") {
				p.EHLO = ex.reply
			}
		case "STARTTLS":
			startTLSSent = true
			p.STARTTLSReply = ex.reply
		}
	}
	p.STARTTLSOffered = offersSTARTTLS(p.EHLO)
}

// offersSTARTTLS reports whether a positive EHLO reply, as whole lines
// with their codes, lists STARTTLS.
func offersSTARTTLS(lines []string) bool {
	if len(lines) == 0 || !strings.HasPrefix(lines[0], "2") {
		return false
	}
	texts := make([]string, len(lines))
	for i, l := range lines {
		if len(l) > 4 {
			texts[i] = l[4:]
		}
	}
	_, ok := parseEHLO(texts)["STARTTLS"]
	return ok
}

// Evidence holds the DNS answers behind a host's policy. FindRoute keeps
// only its conclusions, so a report looks them up again with
// LookupEvidence to show the records, CNAME links and signatures.
type Evidence struct {
	A, AAAA *dnssec.Result
	// TLSA has one lookup per TLSA base domain tried, in the order
	// FindRoute tries them, and is empty when DANE does not apply.
	TLSA []*dnssec.Result
}

// LookupEvidence repeats the address and TLSA lookups that FindRoute made
// for h, and returns their results. The validator caches keys but not
// answers, so the answers are fetched again and may, in rare cases such
// as a zone changing in between, differ from those FindRoute acted on.
func LookupEvidence(ctx context.Context, v *dnssec.Validator, h *Host) (*Evidence, error) {
	a, aaaa, err := lookupAddresses(ctx, v, h.Name)
	if err != nil {
		return nil, err
	}
	ev := &Evidence{A: a, AAAA: aaaa}
	if h.Policy == PolicyUnusable && len(h.Addrs) == 0 {
		return ev, nil
	}
	withAddrs := a
	if len(addressesOf(a)) == 0 {
		withAddrs = aaaa
	}
	for _, base := range tlsaBases(h, withAddrs) {
		owner := dane.OwnerName(base, 25)
		res, err := v.Lookup(ctx, owner, dns.TypeTLSA)
		if err != nil {
			return nil, fmt.Errorf("looking up %s TLSA: %w", owner, err)
		}
		ev.TLSA = append(ev.TLSA, res)
		// As in lookupTLSA, only a secure denial moves on to the next base.
		if res.Security != dnssec.Secure || hasType(res, dns.TypeTLSA) {
			break
		}
	}
	return ev, nil
}

func hasType(res *dnssec.Result, t uint16) bool {
	for _, rr := range res.Answer {
		if rr.Header().Rrtype == t {
			return true
		}
	}
	return false
}

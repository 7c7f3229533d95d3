package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/mxclient/mxclient/dane"
	"github.com/mxclient/mxclient/dane/danetest"
	"github.com/mxclient/mxclient/dnssec/dnssectest"
	"github.com/mxclient/mxclient/smtp/smtptest"
)

// demoDomain is the recipient domain of the demonstration world.
const demoDomain = "dane-demo.test"

// demoOptions are the inputs of `mxclient demo`.
type demoOptions struct {
	serve bool
}

func newDemoCmd(g *globalOptions, s *streams) *cobra.Command {
	o := &demoOptions{}
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Deliver a message under DANE in a world of DNS and mail servers on loopback",
		Long: `Start a signed DNS hierarchy and two receiving mail servers on loopback
addresses, with no network and no configuration: the domain ` + demoDomain + `
publishes MX records for both servers, one with a DANE-EE and one with a
DANE-TA record. Then deliver a sample message to it through the same code as
"mxclient send", print the progress and where the message arrived, and exit.

With --serve, keep that world running until interrupted and print the flags
that reach it, with files to try "lookup", "tlsa", "send" and "check-domain"
against it: the trust anchor, root hints, the receivers' certificate chains
and a sample message. --serve needs ports 53 and 25, so root (or
CAP_NET_BIND_SERVICE). The demo sets up its own DNS flags and timeout; the
global ones do not apply to it.

Exit status: 0 the message was delivered (or --serve was interrupted);
75 the world could not be started or the delivery did not succeed.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDemo(cmd.Context(), g, o, s)
		},
	}
	cmd.Flags().BoolVar(&o.serve, "serve", false, "keep the world running on ports 53 and 25 until interrupted")
	return cmd
}

// demoWorld is the running demonstration.
type demoWorld struct {
	lab       *dnssectest.Lab
	receivers map[string]*smtptest.Server
	anchor    string
	port      uint16
}

func (w *demoWorld) close() {
	for _, r := range w.receivers {
		r.Close()
	}
	w.lab.Close()
	os.RemoveAll(filepath.Dir(w.anchor))
}

// startDemo starts the receivers, then the DNS lab that points at them.
func startDemo(standardPorts bool) (*demoWorld, error) {
	now := time.Now()
	validity := danetest.Options{NotBefore: now.Add(-time.Hour), NotAfter: now.Add(90 * 24 * time.Hour)}
	ca := validity
	ca.CommonName = "mxclient demo CA"
	root := danetest.NewRoot(ca)

	w := &demoWorld{receivers: map[string]*smtptest.Server{}}
	var port uint16
	if standardPorts {
		port = 25
	}
	records := ""
	certs := map[string]*danetest.Cert{}
	for i, host := range []string{"mx1", "mx2"} {
		name := host + "." + demoDomain
		leafOpts := validity
		leafOpts.DNSNames = []string{name}
		leaf := root.Leaf(leafOpts)
		certs[host] = leaf
		srv, err := smtptest.Start(smtptest.Config{Port: port, Domain: name,
			TLS: &tls.Config{Certificates: []tls.Certificate{danetest.TLSCertificate(leaf, root)}}})
		if err != nil {
			w.closeReceivers()
			return nil, fmt.Errorf("starting the receiver %s: %w", name, err)
		}
		port = srv.Addr().Port()
		w.receivers[host] = srv
		records += fmt.Sprintf("@ MX %d %s\n%s A %s\n", 10*(i+1), host, host, srv.Addr().Addr())
	}
	w.port = port
	ee, err := dane.AssociationData(certs["mx1"].Cert, dane.SelectorSPKI, dane.MatchingSHA256)
	if err != nil {
		w.closeReceivers()
		return nil, err
	}
	ta, err := dane.AssociationData(root.Cert, dane.SelectorCert, dane.MatchingSHA256)
	if err != nil {
		w.closeReceivers()
		return nil, err
	}
	records += fmt.Sprintf("_25._tcp.mx1 TLSA 3 1 1 %x\n_25._tcp.mx2 TLSA 2 0 1 %x\n", ee, ta)

	l := dnssectest.New(dnssectest.Config{UnprivilegedPort: !standardPorts})
	l.Zone(".", dnssectest.ZoneOptions{})
	l.Zone("test.", dnssectest.ZoneOptions{})
	l.Zone(demoDomain+".", dnssectest.ZoneOptions{Denial: dnssectest.NSEC3}).Add(records)
	if err := l.Start(); err != nil {
		w.closeReceivers()
		return nil, fmt.Errorf("starting the DNS servers: %w", err)
	}
	w.lab = l

	dir, err := os.MkdirTemp("", "mxclient-demo-")
	if err != nil {
		w.close()
		return nil, err
	}
	var anchor strings.Builder
	for _, rr := range l.TrustAnchor() {
		anchor.WriteString(rr.String() + "\n")
	}
	w.anchor = filepath.Join(dir, "root.ds")
	files := map[string]string{
		"root.ds":     anchor.String(),
		"root.hints":  l.RootHints(),
		"message.eml": demoMessage,
		"mx1.pem":     string(danetest.PEM(certs["mx1"], root)),
		"mx2.pem":     string(danetest.PEM(certs["mx2"], root)),
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			w.close()
			return nil, err
		}
	}
	return w, nil
}

func (w *demoWorld) closeReceivers() {
	for _, r := range w.receivers {
		r.Close()
	}
}

const demoMessage = "From: Demo Sender <sender@client.test>\r\n" +
	"To: <postmaster@" + demoDomain + ">\r\n" +
	"Subject: mxclient demo\r\n" +
	"\r\n" +
	"This message travelled under DANE, every DNS answer proven from the root.\r\n"

func runDemo(ctx context.Context, g *globalOptions, o *demoOptions, s *streams) error {
	w, err := startDemo(o.serve)
	if err != nil {
		if o.serve {
			return withCode(exitTempFail, fmt.Errorf("%w; --serve needs ports 53 and 25: run it as root or with CAP_NET_BIND_SERVICE", err))
		}
		return withCode(exitTempFail, err)
	}
	defer w.close()
	if o.serve {
		return serveDemo(ctx, w, s)
	}

	fmt.Fprintf(s.out, "demo: DNS resolver %s, trust anchor %s, receivers %s and %s\n\n",
		w.lab.Resolver(dnssectest.Normal), w.anchor, w.receivers["mx1"].Addr(), w.receivers["mx2"].Addr())
	demo := *g
	demo.dns = dnsOptions{mode: modeUpstream, resolvers: []string{w.lab.Resolver(dnssectest.Normal)}, trustAnchor: w.anchor}
	demo.timeout = time.Minute
	send := &sendOptions{from: "sender@client.test", fromSet: true, helo: "client.test", deliveryMode: "m",
		maxAddresses: 5, maxSessions: 2, port: w.port, recipients: []string{"postmaster@" + demoDomain}}
	sctx, cancel := demo.context(ctx)
	defer cancel()
	if err := runSend(sctx, &demo, send, &streams{in: strings.NewReader(demoMessage), out: s.out, errOut: s.errOut}); err != nil {
		return err
	}
	for _, host := range []string{"mx1", "mx2"} {
		for _, m := range w.receivers[host].Messages() {
			fmt.Fprintf(s.out, "\ndemo: %s.%s received the message over %s, %d octets, for %s\n",
				host, demoDomain, tlsWord(m.TLS), len(m.Data), strings.Join(m.To, ", "))
		}
	}
	return nil
}

func tlsWord(on bool) string {
	if on {
		return "TLS"
	}
	return "plaintext"
}

// serveDemo prints how to reach the world and waits for an interrupt.
func serveDemo(ctx context.Context, w *demoWorld, s *streams) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	dir := filepath.Dir(w.anchor)
	flags := fmt.Sprintf("--dns-mode upstream --resolver %s --trust-anchor %s",
		w.lab.Resolver(dnssectest.Normal), w.anchor)
	fmt.Fprintf(s.out, `The demo world is running; press Ctrl-C to stop it.

DNS flags that reach it:
  %[1]s
or, iterating from its root server:
  --dns-mode iterate --root-hints %[5]s/root.hints --trust-anchor %[6]s

Try:
  mxclient lookup %[1]s --trace _25._tcp.mx1.%[2]s TLSA
  mxclient check-domain %[1]s %[2]s
  mxclient lookup %[1]s _25._tcp.mx2.%[2]s TLSA | grep -v '^;' > %[5]s/mx2.tlsa
  mxclient tlsa --verify %[5]s/mx2.tlsa %[5]s/mx2.pem
  mxclient send %[1]s --helo client.test -f sender@client.test postmaster@%[2]s < %[5]s/message.eml

Receivers: mx1.%[2]s at %[3]s (DANE-EE), mx2.%[2]s at %[4]s (DANE-TA).
Files: %[5]s
`, flags, demoDomain, w.receivers["mx1"].Addr(), w.receivers["mx2"].Addr(), dir, w.anchor)
	<-ctx.Done()
	return nil
}

package main

import (
	"fmt"
	"io"
	"log"
	"os"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/mxclient/mxclient/dnssec"
	"github.com/mxclient/mxclient/trustanchor"
)

// resolvConfPath is where the upstream resolvers come from when no
// --resolver flag is given.
const resolvConfPath = "/etc/resolv.conf"

// dnsOptions are the DNS flags every command shares.
type dnsOptions struct {
	resolvers      []string
	trustAnchor    string
	mode           string
	rootHints      string
	noMinimisation bool
}

// DNS modes for --dns-mode.
const (
	modeUpstream = "upstream"
	modeIterate  = "iterate"
	modeAuto     = "auto"
)

func (o *dnsOptions) register(fs *pflag.FlagSet) {
	fs.StringArrayVar(&o.resolvers, "resolver", nil,
		"upstream resolver ADDR[:PORT] (repeatable; default: the nameservers in "+resolvConfPath+")")
	fs.StringVar(&o.trustAnchor, "trust-anchor", "",
		"file of trust anchors: IANA root-anchors.xml, or DS/DNSKEY lines (default: the built-in IANA root anchors)")
	fs.StringVar(&o.mode, "dns-mode", "",
		"where DNS data comes from: upstream (a recursive resolver asked with DO and CD), iterate (from the\n"+
			"root servers, no resolver), or auto (the resolver while it passes DNSSEC records on, else iterate);\n"+
			"default: upstream with --resolver, auto without")
	fs.StringVar(&o.rootHints, "root-hints", "",
		"root hints file in zone-file form, like named.root, for iterating (default: the built-in IANA root hints)")
	fs.BoolVar(&o.noMinimisation, "no-qname-minimisation", false,
		"send the full query name to every server when iterating (default: QNAME minimisation, RFC 9156)")
}

// validator builds the DNSSEC validator the flags describe. logf, when not
// nil, receives a line per DNS query; warnings go to warn.
func (o *dnsOptions) validator(now func() time.Time, logf func(string, ...any), warn io.Writer) (*dnssec.Validator, error) {
	mode := o.mode
	if mode == "" {
		mode = modeAuto
		if len(o.resolvers) > 0 {
			mode = modeUpstream
		}
	}
	if mode != modeUpstream && mode != modeIterate && mode != modeAuto {
		return nil, usageErrorf("invalid --dns-mode %q: use upstream, iterate or auto", o.mode)
	}
	if mode == modeUpstream && o.rootHints != "" {
		return nil, usageErrorf("--root-hints applies to --dns-mode iterate or auto, not upstream")
	}
	if mode == modeIterate && len(o.resolvers) > 0 {
		// Dropping --resolver silently would send the queries to the root
		// servers instead of where the user pointed them.
		return nil, usageErrorf("--resolver does not apply to --dns-mode iterate, which asks the root servers " +
			"itself: give --root-hints FILE to reach other servers, or use --dns-mode upstream")
	}
	anchors, err := o.anchors()
	if err != nil {
		return nil, err
	}
	source, err := o.source(mode, logf, warn)
	if err != nil {
		return nil, err
	}
	v, err := dnssec.New(dnssec.Config{Source: source, Anchors: anchors, Now: now})
	if err != nil {
		return nil, withCode(exitConfig, err)
	}
	return v, nil
}

func (o *dnsOptions) source(mode string, logf func(string, ...any), warn io.Writer) (dnssec.Source, error) {
	var up *dnssec.Upstream
	if mode != modeIterate {
		servers, err := o.servers()
		if err != nil {
			return nil, err
		}
		up = &dnssec.Upstream{Servers: servers, Logf: logf}
	}
	if mode == modeUpstream {
		return up, nil
	}
	roots, err := o.roots()
	if err != nil {
		return nil, err
	}
	it := &dnssec.Iterator{Roots: roots, NoQNAMEMinimisation: o.noMinimisation, Logf: logf}
	if mode == modeIterate {
		return it, nil
	}
	return &dnssec.Auto{Upstream: up, Iterator: it, Notify: func(reason string) {
		fmt.Fprintf(warn, "mxclient: warning: %s; iterating from the root servers for the rest of this run\n", reason)
	}}, nil
}

func (o *dnsOptions) roots() ([]string, error) {
	if o.rootHints == "" {
		return dnssec.DefaultRootHints(), nil
	}
	f, err := os.Open(o.rootHints)
	if err != nil {
		return nil, withCode(exitConfig, fmt.Errorf("reading --root-hints: %w", err))
	}
	defer f.Close()
	roots, err := dnssec.ParseRootHints(f, o.rootHints)
	if err != nil {
		return nil, withCode(exitConfig, err)
	}
	return roots, nil
}

func (o *dnsOptions) anchors() ([]trustanchor.Anchor, error) {
	if o.trustAnchor == "" {
		return trustanchor.Embedded(), nil
	}
	anchors, err := trustanchor.Load(o.trustAnchor)
	if err != nil {
		return nil, withCode(exitConfig, err)
	}
	return anchors, nil
}

func (o *dnsOptions) servers() ([]string, error) {
	if len(o.resolvers) == 0 {
		servers, err := dnssec.ResolvConfServers(resolvConfPath)
		if err != nil {
			return nil, withCode(exitConfig, err)
		}
		return servers, nil
	}
	var servers []string
	for _, r := range o.resolvers {
		s, err := dnssec.ParseServer(r)
		if err != nil {
			return nil, usageErrorf("invalid --resolver: %s", strings.TrimPrefix(err.Error(), "dnssec: "))
		}
		servers = append(servers, s)
	}
	return servers, nil
}

// stderrLogf returns a logf that writes to w when verbose is set.
func stderrLogf(w io.Writer, verbose int) func(string, ...any) {
	if verbose == 0 {
		return nil
	}
	l := log.New(w, "mxclient: ", 0)
	return func(format string, args ...any) { l.Output(2, fmt.Sprintf(format, args...)) }
}

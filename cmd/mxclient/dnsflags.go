package main

import (
	"fmt"
	"io"
	"log"
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
	resolvers   []string
	trustAnchor string
	mode        string
}

func (o *dnsOptions) register(fs *pflag.FlagSet) {
	fs.StringArrayVar(&o.resolvers, "resolver", nil,
		"upstream resolver ADDR[:PORT] (repeatable; default: the nameservers in "+resolvConfPath+")")
	fs.StringVar(&o.trustAnchor, "trust-anchor", "",
		"file of trust anchors: IANA root-anchors.xml, or DS/DNSKEY lines (default: the built-in IANA root anchors)")
	fs.StringVar(&o.mode, "dns-mode", "upstream",
		"where DNS data comes from: upstream (a recursive resolver asked with DO and CD; the only mode so far)")
}

// validator builds the DNSSEC validator the flags describe. logf, when
// not nil, receives a line per DNS query.
func (o *dnsOptions) validator(now func() time.Time, logf func(string, ...any)) (*dnssec.Validator, error) {
	if o.mode != "upstream" {
		return nil, usageErrorf("--dns-mode %q is not available: only upstream is implemented so far", o.mode)
	}
	anchors, err := o.anchors()
	if err != nil {
		return nil, err
	}
	servers, err := o.servers()
	if err != nil {
		return nil, err
	}
	up := &dnssec.Upstream{Servers: servers, Logf: logf}
	v, err := dnssec.New(dnssec.Config{Source: up, Anchors: anchors, Now: now})
	if err != nil {
		return nil, withCode(exitConfig, err)
	}
	return v, nil
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

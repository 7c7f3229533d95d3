package main

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/net/idna"

	"github.com/mxclient/mxclient/dane"
)

// tlsaOptions are the inputs of `mxclient tlsa`.
type tlsaOptions struct {
	certPath string
	host     string

	// usage, selector, matchingType, port and depth describe the record to
	// print. depth is the chain position of the certificate a DANE-TA
	// record is for; -1 means the last certificate.
	usage, selector, matchingType uint8
	port                          uint16
	depth                         int

	// recordsPath, names and at are set with --verify: the file of TLSA
	// records ("-" for stdin), further reference identifiers, and the
	// validation time, zero for now.
	recordsPath string
	names       []string
	at          time.Time
}

// maxCertFileSize is the largest certificate file read, in bytes: a chain
// of ten 4096-bit RSA certificates in PEM is about 20 kB.
const maxCertFileSize = 1 << 20

const tlsaExitCodes = `Exit status:
  0   records printed; with --verify, an SMTP client accepts the chain
  1   with --verify, an SMTP client rejects the chain
  64  usage error
  65  CERT.pem or the records file cannot be read or does not parse`

// generateOnlyFlags and verifyOnlyFlags are the flags that belong to one
// of the two modes of the command.
var (
	generateOnlyFlags = []string{"usage", "selector", "mtype", "port", "depth"}
	verifyOnlyFlags   = []string{"name", "at"}
)

func newTLSACmd(g *globalOptions, s *streams) *cobra.Command {
	o := &tlsaOptions{}
	var at string
	cmd := &cobra.Command{
		Use:   "tlsa [flags] CERT.pem",
		Short: "Print TLSA records for a certificate, or check a chain against TLSA records",
		Long: `Print the TLSA record that publishes the certificate in CERT.pem for SMTP,
as a zone-file line for _PORT._tcp.HOST. CERT.pem holds one PEM certificate or a
chain, leaf first. The default record, 3 1 1 (DANE-EE, SPKI, SHA2-256), pins the
leaf's public key, so it stays valid across renewals that keep the key. With
--usage 2 (DANE-TA) the record is for the last certificate of the chain, or the
one at --depth N, where 0 is the leaf.

With --verify RECORDS, check the chain in CERT.pem against the TLSA records in
the file RECORDS (zone-file lines as dig prints them; - reads standard input)
the way an SMTP client does (RFC 7672), and print for each record whether it is
usable and whether it matches. A DANE-EE(3) record matches the leaf whatever its
names and dates. A DANE-TA(2) record designates a trust anchor: a CA
certificate above the leaf, never the leaf itself, or a key given in full
(2 1 0) that signs the chain. It needs a valid chain at --at, with the dates
and constraints of the anchor certificate even when a 2 1 x record gives only
its key. The leaf must be issued for a reference identifier: the TLSA base domain (--host,
by default the HOST of the records' owner names _PORT._tcp.HOST) or a --name.
Where a usage and selector have SHA2-512 records, their SHA2-256 records are
not used (RFC 7671 §9). When no record is usable, an SMTP client still uses TLS but
authenticates nothing, so it accepts any chain (RFC 7672 §2.2).

` + tlsaExitCodes,
		Example: `  mxclient tlsa --host mx.example.net /etc/ssl/mail/fullchain.pem
  mxclient tlsa --usage 2 --selector 1 --mtype 1 fullchain.pem
  mxclient lookup _25._tcp.mx.example.net TLSA |
      mxclient tlsa --verify - --name example.net fullchain.pem`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageErrorf("tlsa takes one CERT.pem argument, but got %d arguments", len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.parseArgs(cmd, args, at); err != nil {
				return err
			}
			if o.recordsPath != "" {
				return runTLSAVerify(o, s)
			}
			return runTLSAGenerate(o, s)
		},
	}
	f := cmd.Flags()
	f.Uint8Var(&o.usage, "usage", dane.DANEEE,
		"certificate `USAGE` of the record: 3 (DANE-EE) or 2 (DANE-TA)")
	f.Uint8Var(&o.selector, "selector", dane.SelectorSPKI,
		"`SELECTOR`: 1 (SPKI, the public key) or 0 (Cert, the whole certificate)")
	f.Uint8Var(&o.matchingType, "mtype", dane.MatchingSHA256,
		"matching `TYPE`: 1 (SHA2-256), 2 (SHA2-512) or 0 (Full, the data itself)")
	f.StringVar(&o.host, "host", "", "TLSA base domain, usually the MX `HOST` name, converted to A-labels "+
		"(default: the leaf's first DNS name, or with --verify the HOST in the records' owner names)")
	f.Uint16Var(&o.port, "port", 25, "TCP `PORT` in the owner name _PORT._tcp.HOST")
	f.IntVar(&o.depth, "depth", 0, "with --usage 2, the chain position `N` of the trust anchor "+
		"certificate, 0 being the leaf (default: the last certificate)")
	f.StringVar(&o.recordsPath, "verify", "", "check CERT.pem against the TLSA records in the file "+
		"`RECORDS` (- for standard input) instead of printing a record")
	f.StringArrayVar(&o.names, "name", nil, "with --verify, another reference identifier `NAME` that "+
		"a DANE-TA leaf may be issued for, such as the recipient domain; internationalised names are "+
		"converted to A-labels (repeatable)")
	f.StringVar(&at, "at", "", "with --verify, check validity dates as of `TIME` "+
		"(RFC 3339, e.g. 2026-01-02T15:04:05Z) instead of now")
	return cmd
}

// parseArgs completes and checks the options from the command line.
func (o *tlsaOptions) parseArgs(cmd *cobra.Command, args []string, at string) error {
	o.certPath = args[0]
	flags := cmd.Flags()
	mode, misplaced := "--verify", generateOnlyFlags
	if o.recordsPath == "" {
		mode, misplaced = "printing records", verifyOnlyFlags
	}
	for _, name := range misplaced {
		if flags.Changed(name) {
			return usageErrorf("--%s does not apply to %s", name, mode)
		}
	}

	if o.recordsPath == "-" && o.certPath == "-" {
		return usageErrorf("--verify - and CERT.pem - cannot both read standard input")
	}
	if o.host != "" {
		host, err := aLabelHost("host", o.host)
		if err != nil {
			return err
		}
		o.host = host
	}
	for i, name := range o.names {
		ref, err := aLabelHost("name", name)
		if err != nil {
			return err
		}
		o.names[i] = ref
	}
	if at != "" {
		t, err := time.Parse(time.RFC3339, at)
		if err != nil {
			return usageErrorf("--at %q is not an RFC 3339 time such as 2026-01-02T15:04:05Z", at)
		}
		o.at = t
	}

	if o.recordsPath != "" {
		return nil
	}
	if flags.Changed("depth") && o.depth < 0 {
		return usageErrorf("--depth %d is negative: 0 is the leaf, 1 its issuer, and so on", o.depth)
	}
	if !flags.Changed("depth") {
		o.depth = -1
	}
	return o.checkRecordFlags()
}

// checkRecordFlags checks the flags that describe the record to print.
func (o *tlsaOptions) checkRecordFlags() error {
	switch {
	case o.usage == dane.PKIXTA || o.usage == dane.PKIXEE:
		return usageErrorf("--usage %d (%s) is not usable for SMTP (RFC 7672 §3.1.3): "+
			"use 3 (DANE-EE) or 2 (DANE-TA)", o.usage, []string{"PKIX-TA", "PKIX-EE"}[o.usage])
	case o.usage > dane.DANEEE:
		return usageErrorf("--usage %d is not a certificate usage: use 3 (DANE-EE) or 2 (DANE-TA)", o.usage)
	case o.selector > dane.SelectorSPKI:
		return usageErrorf("--selector %d is not a selector: use 1 (SPKI) or 0 (Cert)", o.selector)
	case o.matchingType > dane.MatchingSHA512:
		return usageErrorf("--mtype %d is not a matching type: use 1 (SHA2-256), 2 (SHA2-512) or 0 (Full)",
			o.matchingType)
	case o.port == 0:
		return usageErrorf("--port 0 is not a TCP port: use 1 to 65535, such as 25")
	case o.usage == dane.DANEEE && o.depth > 0:
		return usageErrorf("--depth %d needs --usage 2: a DANE-EE record is always for the leaf", o.depth)
	}
	return nil
}

// runTLSAGenerate prints the TLSA record for the certificate the options
// select.
func runTLSAGenerate(o *tlsaOptions, s *streams) error {
	chain, err := readChain(o.certPath, s)
	if err != nil {
		return err
	}
	depth, err := o.recordDepth(chain, s)
	if err != nil {
		return err
	}
	host := o.host
	if host == "" {
		if host = hostOf(chain[0]); host == "" {
			return usageErrorf("%s: the leaf certificate has no DNS name to build the owner name from; "+
				"give the MX host name with --host", o.certPath)
		}
	}

	rr, err := dane.NewTLSA(dane.OwnerName(host, o.port), o.usage, o.selector, o.matchingType, chain[depth])
	if err != nil {
		return withCode(exitSoftware, err)
	}
	fmt.Fprintf(s.out, "%s IN TLSA %d %d %d %s\n", rr.Hdr.Name, rr.Usage, rr.Selector, rr.MatchingType,
		rr.Certificate)
	return nil
}

// recordDepth returns the chain position of the certificate to make the
// record for, and warns about DANE-TA records that cannot work.
func (o *tlsaOptions) recordDepth(chain []*x509.Certificate, s *streams) (int, error) {
	if o.usage == dane.DANEEE {
		return 0, nil
	}
	depth := o.depth
	if depth < 0 {
		depth = len(chain) - 1
	}
	if depth >= len(chain) {
		return 0, usageErrorf("--depth %d is out of range: %s contains %d certificates (depths 0 to %d)",
			depth, o.certPath, len(chain), len(chain)-1)
	}
	switch {
	case depth == 0:
		fmt.Fprintf(s.errOut, "mxclient: warning: the DANE-TA record is for the leaf itself, which an "+
			"SMTP client never takes for a trust anchor, so it matches only as a 2 1 0 record for a "+
			"self-signed leaf; put the issuer certificates after the leaf in %s, or use --usage 3\n",
			o.certPath)
	case !chain[depth].IsCA:
		fmt.Fprintf(s.errOut, "mxclient: warning: the certificate at depth %d (%s) is not a CA "+
			"certificate, so an SMTP client rejects it as a DANE-TA trust anchor when the server "+
			"sends it\n", depth, subjectName(chain[depth]))
	}
	return depth, nil
}

// hostNameProfile converts host names given on the command line to the
// A-label form that certificates and DNS use, with the mapping of
// UTS #46 that lookups use. Its STD3 rules are off so that underscores
// pass, and hostLabel checks the ASCII result instead.
var hostNameProfile = idna.New(idna.MapForLookup(), idna.StrictDomainName(false),
	idna.VerifyDNSLength(true), idna.BidiRule())

// hostLabel matches a label of a host name in lower case: letters,
// digits, hyphens and underscores, with no hyphen at either end.
var hostLabel = regexp.MustCompile(`^[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?$`)

// aLabelHost returns name, the value of --flag, as a host name in A-label
// form and lower case, or a usage error when it is not a valid host name.
func aLabelHost(flag, name string) (string, error) {
	ascii, err := hostNameProfile.ToASCII(name)
	if err != nil {
		return "", usageErrorf("--%s %q is not a valid domain name (%v); give a host name such as "+
			"mx.example.net", flag, name, err)
	}
	for _, label := range strings.Split(strings.TrimSuffix(ascii, "."), ".") {
		if !hostLabel.MatchString(label) {
			return "", usageErrorf("--%s %q is not a valid domain name: its label %q may contain only "+
				"letters, digits, hyphens and underscores, and no hyphen at either end", flag, name, label)
		}
	}
	return ascii, nil
}

// hostOf returns the first DNS name of cert that is a host name, not a
// wildcard, or its common name when it has no DNS names and the common
// name is a host name, or "".
func hostOf(cert *x509.Certificate) string {
	names := cert.DNSNames
	if len(names) == 0 {
		names = []string{cert.Subject.CommonName}
	}
	for _, name := range names {
		if hostName.MatchString(name) {
			return name
		}
	}
	return ""
}

// hostName matches a host name of at least two labels of letters, digits,
// hyphens and underscores, with an optional final dot.
var hostName = regexp.MustCompile(`^([A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?\.)+` +
	`[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?\.?$`)

// subjectName returns the subject of cert for messages.
func subjectName(cert *x509.Certificate) string {
	if s := cert.Subject.String(); s != "" {
		return s
	}
	return "empty subject"
}

// readChain reads the certificates of a PEM file, or of a file of
// concatenated DER certificates, in order. Text around the PEM blocks is
// ignored, so the output of openssl s_client -showcerts works too. Blocks
// other than CERTIFICATE are skipped with a warning.
func readChain(path string, s *streams) ([]*x509.Certificate, error) {
	data, err := readInputFile(path, s.in, maxCertFileSize)
	if err != nil {
		return nil, err
	}

	var chain []*x509.Certificate
	var skipped []string
	blocks := 0
	for block, rest := pem.Decode(data); block != nil; block, rest = pem.Decode(rest) {
		blocks++
		if block.Type != "CERTIFICATE" {
			skipped = append(skipped, block.Type)
			continue
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, dataErrorf("%s: certificate %d does not parse: %v", path, len(chain)+1, err)
		}
		chain = append(chain, cert)
	}
	// pem.Decode skips a block whose base64 does not decode, so damage shows
	// only as a BEGIN line without a block.
	if begins := bytes.Count(data, []byte("-----BEGIN")); begins != blocks {
		return nil, dataErrorf("%s: %d of its %d PEM blocks are damaged: their base64 does not decode "+
			"or their END line is missing", path, begins-blocks, begins)
	}

	if len(chain) > 0 {
		for _, typ := range skipped {
			fmt.Fprintf(s.errOut, "mxclient: %s: skipped a %s block\n", path, typ)
		}
		return chain, nil
	}
	if len(skipped) > 0 {
		return nil, dataErrorf("%s: no CERTIFICATE block, only %s", path, strings.Join(skipped, ", "))
	}
	chain, err = x509.ParseCertificates(data)
	if err != nil || len(chain) == 0 {
		return nil, dataErrorf("%s: no PEM CERTIFICATE block, and not DER certificates either", path)
	}
	return chain, nil
}

// readInputFile reads the file at path, or stdin when path is "-", up to
// limit bytes.
func readInputFile(path string, stdin io.Reader, limit int64) ([]byte, error) {
	r := stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return nil, withCode(exitDataErr, err)
		}
		defer f.Close()
		r = f
	}
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, dataErrorf("reading %s: %v", path, err)
	}
	if int64(len(data)) > limit {
		return nil, dataErrorf("%s is larger than %d bytes", path, limit)
	}
	return data, nil
}

func dataErrorf(format string, args ...any) error {
	return withCode(exitDataErr, fmt.Errorf(format, args...))
}

// errRejected ends `tlsa --verify` after the output has explained why the
// chain is rejected.
var errRejected = withCode(exitCheckFailed, errSilent)

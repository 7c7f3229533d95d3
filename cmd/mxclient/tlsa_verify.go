package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/mxclient/mxclient/dane"
)

// maxRecordsFileSize is the largest records file read, in bytes; ParseZone
// has the same limit.
const maxRecordsFileSize = 1 << 20

// runTLSAVerify checks the chain in o.certPath against the records in
// o.recordsPath and prints the result of every record.
func runTLSAVerify(o *tlsaOptions, s *streams) error {
	records, err := readRecords(o.recordsPath, s.in)
	if err != nil {
		return err
	}
	chain, err := readChain(o.certPath, s)
	if err != nil {
		return err
	}
	if len(chain) > dane.MaxChainLength {
		return dataErrorf("%s contains %d certificates, more than the %d that an SMTP client accepts",
			o.certPath, len(chain), dane.MaxChainLength)
	}
	host, err := o.baseDomain(records)
	if err != nil {
		return err
	}

	v := &dane.Verifier{Set: dane.Classify(records), BaseDomain: host, Names: o.names}
	if !o.at.IsZero() {
		at := o.at
		v.Now = func() time.Time { return at }
	}
	m, err := v.Verify(chain)
	var mismatch *dane.MismatchError
	if err != nil && !errors.As(err, &mismatch) {
		return withCode(exitDataErr, err)
	}

	if hasUsableTA(v.Set) {
		fmt.Fprintf(s.out, "reference identifiers: %s\n", strings.Join(orNone(v.ReferenceIDs()), ", "))
	}
	for _, a := range attemptsOf(m, mismatch) {
		writeAttempt(s.out, a)
	}
	return writeVerdict(s.out, v.Set, m)
}

// readRecords reads TLSA records in zone-file form from the file at path,
// or stdin when path is "-".
func readRecords(path string, stdin io.Reader) ([]*dns.TLSA, error) {
	data, err := readInputFile(path, stdin, maxRecordsFileSize)
	if err != nil {
		return nil, err
	}
	name := path
	if path == "-" {
		name = "standard input"
	}
	records, err := dane.ParseZone(bytes.NewReader(data), name)
	if err != nil {
		return nil, dataErrorf("%s", strings.TrimPrefix(err.Error(), "dane: "))
	}
	return records, nil
}

// baseDomain returns --host, or else the HOST that the owner names
// _PORT._tcp.HOST of all records share, or "" when they have none.
func (o *tlsaOptions) baseDomain(records []*dns.TLSA) (string, error) {
	if o.host != "" {
		return o.host, nil
	}
	var hosts []string
	for _, rr := range records {
		host, _, ok := dane.SplitOwnerName(rr.Hdr.Name)
		if !ok {
			continue
		}
		if !containsFold(hosts, host) {
			hosts = append(hosts, host)
		}
	}
	if len(hosts) > 1 {
		return "", usageErrorf("the records have owner names for %s; choose the TLSA base domain "+
			"with --host", strings.Join(hosts, " and "))
	}
	if len(hosts) == 0 {
		return "", nil
	}
	return hosts[0], nil
}

func containsFold(names []string, name string) bool {
	for _, n := range names {
		if strings.EqualFold(n, name) {
			return true
		}
	}
	return false
}

func hasUsableTA(set *dane.Set) bool {
	for _, r := range set.Usable() {
		if r.TLSA.Usage == dane.DANETA {
			return true
		}
	}
	return false
}

func orNone(names []string) []string {
	if len(names) == 0 {
		return []string{"none (give --host or --name)"}
	}
	return names
}

// attemptsOf returns the attempts of whichever result Verify returned.
func attemptsOf(m *dane.Match, mismatch *dane.MismatchError) []dane.Attempt {
	if m != nil {
		return m.Attempts
	}
	return mismatch.Attempts
}

// writeAttempt prints one record and what became of it, on two lines.
func writeAttempt(w io.Writer, a dane.Attempt) {
	rec := a.Record
	fmt.Fprintf(w, "record %d: %s\n", rec.Index+1, rec)
	switch a.Outcome {
	case dane.Unusable:
		fmt.Fprintf(w, "  unusable: %s\n", rec.Detail)
	case dane.Matched:
		fmt.Fprintf(w, "  usable, %s: match: %s\n", dane.Describe(rec.TLSA), matchedWhat(a))
	default:
		fmt.Fprintf(w, "  usable, %s: %s: %v\n", dane.Describe(rec.TLSA), a.Outcome, a.Err)
	}
}

// matchedWhat describes the certificate or trust anchor a record matched.
func matchedWhat(a dane.Attempt) string {
	switch {
	case a.Record.TLSA.Usage == dane.DANEEE:
		return "the leaf certificate"
	case a.Depth < len(a.Chain):
		return fmt.Sprintf("trust anchor at depth %d (%s), leaf name verified",
			a.Depth, subjectName(a.Chain[a.Depth]))
	}
	return fmt.Sprintf("trust anchor absent from the chain, at depth %d, leaf name verified", a.Depth)
}

// writeVerdict prints whether an SMTP client accepts the chain and returns
// the command's result.
func writeVerdict(w io.Writer, set *dane.Set, m *dane.Match) error {
	switch {
	case m != nil:
		fmt.Fprintf(w, "accepted: record %d authenticates the chain\n", m.Record.Index+1)
		return nil
	case set.Status() == dane.NoUsableRecords:
		fmt.Fprintln(w, "accepted without authentication: no record is usable, so an SMTP client "+
			"must use TLS but cannot authenticate the server (RFC 7672 §2.2)")
		return nil
	}
	fmt.Fprintln(w, "rejected: no usable record matches the chain")
	return errRejected
}

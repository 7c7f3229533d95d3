package main

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/mail"
	"os"
	"strings"
	"time"

	"github.com/mxclient/mxclient/smtp"
)

// maxHeaderSize bounds the header block read for -t and for the fields
// mxclient adds; a larger header is data error.
const maxHeaderSize = 1 << 20

// headerField is one field of the message header with its folded lines.
type headerField struct {
	name  string
	lines []byte
}

// readSendMessage reads the message from in and returns it with the
// recipients: those on the command line, or with -t those of the To, Cc
// and Bcc fields. It adds the From, Date and Message-ID fields a message
// lacks (RFC 5322 §3.6), as sendmail does, and removes Bcc with -t. The
// last result reports a header with non-ASCII characters.
func readSendMessage(in io.Reader, o *sendOptions) (*smtp.Message, []smtp.Address, bool, error) {
	var recipients []smtp.Address
	for _, r := range o.recipients {
		addr, err := smtp.ParseAddress(r)
		if err != nil {
			return nil, nil, false, withCode(exitDataErr, fmt.Errorf("invalid recipient %q: %v", r, err))
		}
		recipients = append(recipients, addr)
	}

	br := bufio.NewReader(in)
	fields, raw, ended, err := readHeader(br)
	if err != nil {
		return nil, nil, false, err
	}
	utf8Header := !isASCIIBytes(raw)
	var header bytes.Buffer
	changed := false
	for _, f := range fields {
		if o.extract && strings.EqualFold(f.name, "Bcc") {
			changed = true
			continue
		}
		header.Write(f.lines)
	}
	if o.extract {
		extracted, err := headerRecipients(fields)
		if err != nil {
			return nil, nil, false, err
		}
		recipients = append(recipients, extracted...)
		if len(recipients) == 0 {
			return nil, nil, false, withCode(exitDataErr, errors.New("-t: the message has no To, Cc or Bcc recipients"))
		}
	}
	for _, add := range o.missingFields(fields) {
		header.WriteString(add)
		changed = true
	}
	if changed && !ended && len(fields) == 0 {
		// The input had no header block: the added fields need the empty
		// line that separates a header from the body.
		header.WriteString("\r\n")
	}

	var body io.Reader = io.MultiReader(bytes.NewReader(header.Bytes()), bytes.NewReader(raw[headerLen(fields):]), br)
	if f, ok := in.(*os.File); ok && !changed {
		// Nothing changed: re-read the file itself, from where it began.
		if _, err := f.Seek(-int64(len(raw))-int64(br.Buffered()), io.SeekCurrent); err == nil {
			body = f
		}
	}
	msg, err := smtp.ReadMessage(body, "")
	if err != nil {
		return nil, nil, false, withCode(exitTempFail, fmt.Errorf("reading the message from standard input: %w", err))
	}
	return msg, recipients, utf8Header, nil
}

// readHeader reads the header block, up to and including the empty line
// that ends it, or the whole input when it has no body. It returns the
// fields, the raw bytes read, and whether the empty line was found.
func readHeader(br *bufio.Reader) ([]headerField, []byte, bool, error) {
	var raw []byte
	var fields []headerField
	for {
		line, err := br.ReadBytes('\n')
		raw = append(raw, line...)
		if len(raw) > maxHeaderSize {
			return nil, nil, false, withCode(exitDataErr, fmt.Errorf("the message header is larger than %d octets", maxHeaderSize))
		}
		trimmed := bytes.TrimRight(line, "\r\n")
		switch {
		case len(line) == 0:
		case len(trimmed) == 0:
			// The empty line ends the header; it belongs to the body part.
			return fields, raw, true, nil
		case (line[0] == ' ' || line[0] == '\t') && len(fields) > 0:
			fields[len(fields)-1].lines = append(fields[len(fields)-1].lines, line...)
		default:
			name, _, ok := bytes.Cut(trimmed, []byte(":"))
			if !ok || len(bytes.TrimSpace(name)) == 0 || bytes.ContainsAny(name, " \t") {
				// Not a header field: the message has no header block.
				return fields, raw, false, errorIfRead(err)
			}
			fields = append(fields, headerField{name: string(name), lines: line})
		}
		if err != nil {
			return fields, raw, false, errorIfRead(err)
		}
	}
}

func errorIfRead(err error) error {
	if err == nil || errors.Is(err, io.EOF) {
		return nil
	}
	return withCode(exitTempFail, fmt.Errorf("reading the message from standard input: %w", err))
}

// headerLen is the number of raw octets the fields take.
func headerLen(fields []headerField) int {
	n := 0
	for _, f := range fields {
		n += len(f.lines)
	}
	return n
}

// headerRecipients returns the addresses of the To, Cc and Bcc fields.
func headerRecipients(fields []headerField) ([]smtp.Address, error) {
	var out []smtp.Address
	for _, f := range fields {
		switch strings.ToLower(f.name) {
		case "to", "cc", "bcc":
		default:
			continue
		}
		_, value, _ := strings.Cut(string(f.lines), ":")
		// Unfold the field (RFC 5322 §2.2.3) before parsing it.
		value = strings.NewReplacer("\r\n", "", "\n", "", "\r", "").Replace(value)
		list, err := mail.ParseAddressList(strings.TrimSpace(value))
		if err != nil {
			return nil, withCode(exitDataErr, fmt.Errorf("-t: the %s field does not parse: %v", f.name, err))
		}
		for _, a := range list {
			addr, err := smtp.ParseAddress(a.Address)
			if err != nil {
				return nil, withCode(exitDataErr, fmt.Errorf("-t: invalid address %q in %s: %v", a.Address, f.name, err))
			}
			out = append(out, addr)
		}
	}
	return out, nil
}

// missingFields returns the From, Date and Message-ID fields the header
// lacks, as lines.
func (o *sendOptions) missingFields(fields []headerField) []string {
	has := map[string]bool{}
	for _, f := range fields {
		has[strings.ToLower(f.name)] = true
	}
	var out []string
	if !has["from"] {
		from := o.from
		if from == "" {
			from = "MAILER-DAEMON@" + o.helo
		}
		addr := mail.Address{Name: o.fullName, Address: from}
		out = append(out, "From: "+addr.String()+"\r\n")
	}
	if !has["date"] {
		out = append(out, "Date: "+time.Now().Format(time.RFC1123Z)+"\r\n")
	}
	if !has["message-id"] {
		var id [12]byte
		rand.Read(id[:])
		out = append(out, fmt.Sprintf("Message-ID: <%s@%s>\r\n", hex.EncodeToString(id[:]), o.helo))
	}
	return out
}

func isASCIIBytes(p []byte) bool {
	for _, b := range p {
		if b >= 0x80 {
			return false
		}
	}
	return true
}

// needsUTF8 reports whether the transaction needs SMTPUTF8: a non-ASCII
// address or header (RFC 6531 §3.2).
func needsUTF8(from string, recipients []smtp.Address, utf8Header bool) bool {
	if utf8Header || !isASCIIBytes([]byte(from)) {
		return true
	}
	for _, r := range recipients {
		if !r.ASCII() {
			return true
		}
	}
	return false
}

package trustanchor

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// xmlCopyFix ends messages about a root-anchors.xml file that was damaged
// or edited by hand.
const xmlCopyFix = "get a fresh copy of the file from its publisher " +
	"(for the root zone: https://data.iana.org/root-anchors/root-anchors.xml)"

// ParseXML reads trust anchors from a root-anchors.xml document (RFC 7958,
// RFC 9718). Each KeyDigest element becomes a DS anchor for the zone that
// the Zone element names, valid from its validFrom attribute until its
// optional validUntil attribute. A KeyDigest that also carries PublicKey
// and Flags must agree with them, or the file is rejected, because
// RFC 9718 forbids using such a KeyDigest. Unknown elements are ignored.
// The name is used in errors and in each anchor's Source.
func ParseXML(r io.Reader, name string) ([]Anchor, error) {
	data, err := readInput(r, name)
	if err != nil {
		return nil, err
	}
	return parseXML(data, name)
}

func parseXML(data []byte, name string) ([]Anchor, error) {
	p := xmlParser{d: xml.NewDecoder(bytes.NewReader(data)), name: name}
	anchors, err := p.document()
	if err != nil {
		return nil, err
	}
	return anchors, nil
}

// xmlParser walks the tokens of a root-anchors.xml document.
type xmlParser struct {
	d    *xml.Decoder
	name string
}

// xmlText is the text of a leaf element and the line the element starts on.
type xmlText struct {
	text string
	line int
}

// keyDigest is a KeyDigest element as read, before its values are checked.
type keyDigest struct {
	line       int
	id         string
	validFrom  *string
	validUntil *string
	children   map[string]xmlText
}

// keyDigestChildren are the child elements of a KeyDigest that RFC 9718
// defines. Others are skipped.
var keyDigestChildren = map[string]bool{
	"KeyTag": true, "Algorithm": true, "DigestType": true, "Digest": true,
	"PublicKey": true, "Flags": true,
}

// token returns the next token and the line it starts on.
func (p *xmlParser) token() (xml.Token, int, error) {
	// InputPos is where the previous token ended, which is where the next
	// one starts, because white space between elements is a token too.
	line, _ := p.d.InputPos()
	tok, err := p.d.Token()
	if err != nil && err != io.EOF {
		return nil, line, p.xmlError(err, line)
	}
	return tok, line, err
}

func (p *xmlParser) xmlError(err error, line int) error {
	var syntax *xml.SyntaxError
	if errors.As(err, &syntax) {
		return &ParseError{File: p.name, Line: syntax.Line, Err: fmt.Errorf(
			"XML syntax error: %s; check that the file is complete, or %s", syntax.Msg, xmlCopyFix)}
	}
	// With the input in memory, the decoder's other errors reject the XML
	// declaration: a version other than 1.0 or an encoding other than UTF-8.
	return &ParseError{File: p.name, Line: line, Err: fmt.Errorf(
		"reading XML: %w; this parser reads XML 1.0 in UTF-8, so convert the file", err)}
}

func (p *xmlParser) errorf(line int, format string, args ...any) error {
	return &ParseError{File: p.name, Line: line, Err: fmt.Errorf(format, args...)}
}

// document parses the whole input, which must hold one TrustAnchor element.
func (p *xmlParser) document() ([]Anchor, error) {
	var anchors []Anchor
	seenRoot := false
	for {
		tok, line, err := p.token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if seenRoot {
				return nil, p.errorf(line, "element <%s> after </TrustAnchor>; a root-anchors.xml "+
					"file holds a single <TrustAnchor> element", t.Name.Local)
			}
			if t.Name.Local != "TrustAnchor" {
				return nil, p.errorf(line, "root element is <%s>, not <TrustAnchor>, so this is not "+
					"a root-anchors.xml file (RFC 9718); %s", t.Name.Local, xmlCopyFix)
			}
			seenRoot = true
			if anchors, err = p.trustAnchor(line); err != nil {
				return nil, err
			}
		case xml.CharData:
			if len(bytes.TrimSpace(t)) > 0 {
				return nil, p.errorf(line, "text outside the <TrustAnchor> element; %s", xmlCopyFix)
			}
		}
	}
	if !seenRoot {
		return nil, p.errorf(0, "no <TrustAnchor> element; %s", xmlCopyFix)
	}
	return anchors, nil
}

// trustAnchor parses the children of the TrustAnchor element that starts
// on line, up to its end tag.
func (p *xmlParser) trustAnchor(line int) ([]Anchor, error) {
	var (
		zone    *xmlText
		digests []keyDigest
	)
	for {
		tok, childLine, err := p.token()
		if err != nil {
			return nil, p.unexpectedEOF(err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "Zone":
				if zone != nil {
					return nil, p.errorf(childLine, "second <Zone> element; a <TrustAnchor> names one zone")
				}
				text, err := p.text(t)
				if err != nil {
					return nil, err
				}
				zone = &xmlText{text: text, line: childLine}
			case "KeyDigest":
				kd, err := p.keyDigest(t, childLine)
				if err != nil {
					return nil, err
				}
				digests = append(digests, kd)
			default:
				if err := p.d.Skip(); err != nil {
					return nil, p.xmlError(err, childLine)
				}
			}
		case xml.EndElement:
			return p.anchors(line, zone, digests)
		}
	}
}

// keyDigest reads a KeyDigest element that starts on line.
func (p *xmlParser) keyDigest(start xml.StartElement, line int) (keyDigest, error) {
	kd := keyDigest{line: line, children: map[string]xmlText{}}
	for _, attr := range start.Attr {
		value := attr.Value
		switch attr.Name.Local {
		case "id":
			kd.id = value
		case "validFrom":
			kd.validFrom = &value
		case "validUntil":
			kd.validUntil = &value
		}
	}
	for {
		tok, childLine, err := p.token()
		if err != nil {
			return kd, p.unexpectedEOF(err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			child := t.Name.Local
			if !keyDigestChildren[child] {
				if err := p.d.Skip(); err != nil {
					return kd, p.xmlError(err, childLine)
				}
				continue
			}
			if _, dup := kd.children[child]; dup {
				return kd, p.errorf(childLine, "second <%s> element in %s; %s", child, kd, xmlCopyFix)
			}
			text, err := p.text(t)
			if err != nil {
				return kd, err
			}
			kd.children[child] = xmlText{text: text, line: childLine}
		case xml.EndElement:
			return kd, nil
		}
	}
}

// text returns the text content of a leaf element, without surrounding
// white space. Comments are dropped, and a child element is an error.
func (p *xmlParser) text(start xml.StartElement) (string, error) {
	var b strings.Builder
	for {
		tok, line, err := p.token()
		if err != nil {
			return "", p.unexpectedEOF(err)
		}
		switch t := tok.(type) {
		case xml.CharData:
			b.Write(t)
		case xml.StartElement:
			return "", p.errorf(line, "element <%s> inside <%s>, which holds only text; %s",
				t.Name.Local, start.Name.Local, xmlCopyFix)
		case xml.EndElement:
			return strings.TrimSpace(b.String()), nil
		}
	}
}

// unexpectedEOF turns an io.EOF inside an element into an error. Token
// already reports a document that ends inside an element as a syntax error,
// so this only guards against a truncated file parsing as valid.
func (p *xmlParser) unexpectedEOF(err error) error {
	if err == io.EOF {
		return p.errorf(0, "the file ends inside an element; check that it is complete, or %s",
			xmlCopyFix)
	}
	return err
}

func (kd keyDigest) String() string {
	if kd.id == "" {
		return "<KeyDigest>"
	}
	return fmt.Sprintf("<KeyDigest id=%q>", kd.id)
}

// anchors checks the Zone and KeyDigest elements of the TrustAnchor element
// that starts on line and turns them into anchors.
func (p *xmlParser) anchors(line int, zone *xmlText, digests []keyDigest) ([]Anchor, error) {
	if zone == nil {
		return nil, p.errorf(line, "<TrustAnchor> has no <Zone> element; "+
			"add one such as <Zone>.</Zone> for the root zone")
	}
	if _, ok := dns.IsDomainName(zone.text); !ok || zone.text == "" {
		return nil, p.errorf(zone.line, "<Zone> %q is not a domain name; "+
			"write it in presentation format, such as <Zone>.</Zone> for the root zone", zone.text)
	}
	owner := dns.CanonicalName(zone.text)
	if len(digests) == 0 {
		return nil, p.errorf(line, "<TrustAnchor> has no <KeyDigest> elements, so it holds no "+
			"trust anchors; %s", xmlCopyFix)
	}

	anchors := make([]Anchor, 0, len(digests))
	for _, kd := range digests {
		a, err := p.anchor(owner, kd)
		if err != nil {
			return nil, err
		}
		anchors = append(anchors, a)
	}
	return anchors, nil
}

// anchor checks one KeyDigest element and turns it into a DS anchor.
func (p *xmlParser) anchor(owner string, kd keyDigest) (Anchor, error) {
	validFrom, validUntil, err := p.validity(kd)
	if err != nil {
		return Anchor{}, err
	}
	keyTag, err := p.number(kd, "KeyTag", 16)
	if err != nil {
		return Anchor{}, err
	}
	algorithm, err := p.number(kd, "Algorithm", 8)
	if err != nil {
		return Anchor{}, err
	}
	digestType, err := p.number(kd, "DigestType", 8)
	if err != nil {
		return Anchor{}, err
	}
	digest, err := p.child(kd, "Digest")
	if err != nil {
		return Anchor{}, err
	}

	ds := &dns.DS{
		Hdr:        dns.RR_Header{Name: owner, Rrtype: dns.TypeDS, Class: dns.ClassINET},
		KeyTag:     uint16(keyTag),
		Algorithm:  uint8(algorithm),
		DigestType: uint8(digestType),
		Digest:     strings.Join(strings.Fields(digest.text), ""),
	}
	if err := checkDS(ds, xmlCopyFix); err != nil {
		return Anchor{}, p.errorf(digest.line, "%v", err)
	}
	if err := p.checkPublicKey(kd, ds); err != nil {
		return Anchor{}, err
	}
	return Anchor{
		DS:         ds,
		ValidFrom:  validFrom,
		ValidUntil: validUntil,
		Source:     fmt.Sprintf("%s:%d", p.name, kd.line),
	}, nil
}

// validity parses the validFrom and validUntil attributes of a KeyDigest.
// RFC 9718 makes validFrom mandatory and validUntil optional.
func (p *xmlParser) validity(kd keyDigest) (from, until time.Time, err error) {
	if kd.validFrom == nil {
		return from, until, p.errorf(kd.line, "%s has no validFrom attribute, which RFC 9718 "+
			"requires; %s", kd, xmlCopyFix)
	}
	if from, err = p.dateTime(kd, "validFrom", *kd.validFrom); err != nil {
		return from, until, err
	}
	if kd.validUntil == nil {
		return from, until, nil
	}
	if until, err = p.dateTime(kd, "validUntil", *kd.validUntil); err != nil {
		return from, until, err
	}
	if !until.After(from) {
		return from, until, p.errorf(kd.line, "%s has validUntil %s, which is not after its "+
			"validFrom %s, so it is never valid; %s", kd, *kd.validUntil, *kd.validFrom, xmlCopyFix)
	}
	return from, until, nil
}

// dateTime parses an xsd:dateTime attribute. It requires the time zone,
// which IANA always writes, so that the instant is not left to guesswork.
func (p *xmlParser) dateTime(kd keyDigest, attr, value string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339, strings.TrimSpace(value))
	if err != nil {
		return t, p.errorf(kd.line, "%s has %s %q, which is not a date and time with a time zone "+
			"such as 2024-07-18T00:00:00+00:00; %s", kd, attr, value, xmlCopyFix)
	}
	return t, nil
}

func (p *xmlParser) child(kd keyDigest, name string) (xmlText, error) {
	c, ok := kd.children[name]
	if !ok {
		return c, p.errorf(kd.line, "%s has no <%s> element; %s", kd, name, xmlCopyFix)
	}
	return c, nil
}

// number parses the unsigned integer of bits bits held by a KeyDigest child.
func (p *xmlParser) number(kd keyDigest, name string, bits int) (uint64, error) {
	c, err := p.child(kd, name)
	if err != nil {
		return 0, err
	}
	n, err := strconv.ParseUint(c.text, 10, bits)
	if err != nil {
		return 0, p.errorf(c.line, "<%s> %q is not a whole number from 0 to %d; %s",
			name, c.text, uint64(1)<<bits-1, xmlCopyFix)
	}
	return n, nil
}

// checkPublicKey checks the optional PublicKey and Flags of a KeyDigest
// against its digest. RFC 9718 (Accepting DNSSEC Trust Anchors) forbids
// using a KeyDigest whose Digest is not the proper DS for its PublicKey.
func (p *xmlParser) checkPublicKey(kd keyDigest, ds *dns.DS) error {
	publicKey, hasKey := kd.children["PublicKey"]
	_, hasFlags := kd.children["Flags"]
	switch {
	case !hasKey && !hasFlags:
		return nil
	case !hasFlags:
		return p.errorf(publicKey.line, "%s has <PublicKey> without <Flags>; RFC 9718 requires "+
			"both or neither; %s", kd, xmlCopyFix)
	case !hasKey:
		return p.errorf(kd.children["Flags"].line, "%s has <Flags> without <PublicKey>; "+
			"RFC 9718 requires both or neither; %s", kd, xmlCopyFix)
	}
	flags, err := p.number(kd, "Flags", 16)
	if err != nil {
		return err
	}

	key := &dns.DNSKEY{
		Hdr:       dns.RR_Header{Name: ds.Hdr.Name, Rrtype: dns.TypeDNSKEY, Class: dns.ClassINET},
		Flags:     uint16(flags),
		Protocol:  3,
		Algorithm: ds.Algorithm,
		PublicKey: strings.Join(strings.Fields(publicKey.text), ""),
	}
	if err := checkDNSKEY(key, xmlCopyFix); err != nil {
		return p.errorf(publicKey.line, "%s: %v", kd, err)
	}
	if tag := key.KeyTag(); tag != ds.KeyTag {
		return p.errorf(publicKey.line, "%s: <PublicKey> and <Flags> give key tag %d, but <KeyTag> "+
			"is %d; RFC 9718 forbids using a KeyDigest whose key and digest disagree; %s",
			kd, tag, ds.KeyTag, xmlCopyFix)
	}
	// ToDS returns nil for a digest type that miekg/dns cannot compute;
	// such an anchor stays, and the validator treats it as unsupported.
	computed := key.ToDS(ds.DigestType)
	if computed != nil && !strings.EqualFold(computed.Digest, ds.Digest) {
		return p.errorf(publicKey.line, "%s: <PublicKey> and <Flags> hash to digest %s, not to the "+
			"<Digest> given; RFC 9718 forbids using a KeyDigest whose key and digest disagree; %s",
			kd, strings.ToUpper(computed.Digest), xmlCopyFix)
	}
	return nil
}

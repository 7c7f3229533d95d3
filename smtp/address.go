package smtp

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Address is a mailbox: local-part@domain (RFC 5321 §4.1.2).
type Address struct {
	Local string
	// Domain is the domain as given: a name, which routing turns into its
	// A-label form, or an address literal in brackets.
	Domain string
}

func (a Address) String() string { return a.Local + "@" + a.Domain }

// ASCII reports whether the address needs no SMTPUTF8 (RFC 6531).
func (a Address) ASCII() bool { return isASCII(a.Local) && isASCII(a.Domain) }

// ParseAddress parses a mailbox as mail programs pass it: local@domain,
// optionally in angle brackets. The local part may be quoted; it is at
// most 64 octets (RFC 5321 §4.5.3.1.1).
func ParseAddress(s string) (Address, error) {
	s = strings.TrimSpace(s)
	if inner, ok := strings.CutPrefix(s, "<"); ok {
		inner, ok = strings.CutSuffix(inner, ">")
		if !ok {
			return Address{}, errors.New("unbalanced angle brackets")
		}
		s = inner
	}
	at := strings.LastIndex(s, "@")
	if at <= 0 || at == len(s)-1 {
		return Address{}, errors.New("not local-part@domain")
	}
	local, domain := s[:at], s[at+1:]
	if err := checkLocal(local); err != nil {
		return Address{}, err
	}
	// RFC 5321 §4.5.3.1.3: a path holds at most 256 octets, 254 without
	// its angle brackets.
	if len(s) > 254 {
		return Address{}, fmt.Errorf("address of %d octets, more than 254", len(s))
	}
	if _, ok := parseLiteral(domain); !ok {
		if strings.HasSuffix(domain, ".") {
			return Address{}, fmt.Errorf("domain %q ends with a dot, which an address does not have (RFC 5321 §4.1.2)", domain)
		}
		if strings.HasPrefix(domain, "[") {
			return Address{}, fmt.Errorf("invalid address literal %s", domain)
		}
		if _, err := ASCIIDomain(domain); err != nil {
			return Address{}, fmt.Errorf("invalid domain %q: %v", domain, err)
		}
	}
	return Address{Local: local, Domain: domain}, nil
}

func checkLocal(local string) error {
	if len(local) > 64 {
		return fmt.Errorf("local part of %d octets, more than 64", len(local))
	}
	if !utf8.ValidString(local) {
		return errors.New("local part is not valid UTF-8")
	}
	quoted := len(local) >= 2 && local[0] == '"' && local[len(local)-1] == '"'
	for _, r := range local {
		switch {
		case r < 0x20 || r == 0x7f:
			return errors.New("control character in the local part")
		case !quoted && strings.ContainsRune(" <>()[]\\,;:\"@", r):
			return fmt.Errorf("%q in an unquoted local part", r)
		}
	}
	if !quoted && (strings.HasPrefix(local, ".") || strings.HasSuffix(local, ".") || strings.Contains(local, "..")) {
		return errors.New("misplaced dot in the local part")
	}
	return nil
}

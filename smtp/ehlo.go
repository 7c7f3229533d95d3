package smtp

import "strings"

// hello sends EHLO and, when the server rejects it with anything but 421,
// falls back to HELO (RFC 5321 §3.2). A server greeted with HELO offers no
// extensions, so it offers no STARTTLS either. A 421 reply means that the
// server is closing the connection, so HELO cannot follow it.
func (s *Session) hello() error {
	s.ext = nil
	reply, err := s.command(s.cfg.Timeouts.EHLO, stageEHLO, "EHLO "+s.cfg.Helo)
	if err != nil {
		return err
	}
	if reply.Positive() {
		s.ext = parseEHLO(reply.Lines)
		return nil
	}
	if reply.Code == 421 {
		return &ReplyError{Stage: stageEHLO, Reply: reply}
	}

	reply, err = s.command(s.cfg.Timeouts.EHLO, stageHELO, "HELO "+s.cfg.Helo)
	if err != nil {
		return err
	}
	if !reply.Positive() {
		return &ReplyError{Stage: stageHELO, Reply: reply}
	}
	s.ext = map[string]string{}
	return nil
}

// parseEHLO returns the service extensions of an EHLO reply, keyed by
// their keywords in upper case, with the parameters that follow each
// keyword. The first line is the server's greeting, not an extension.
// Lines whose first word is not a valid ehlo-keyword (RFC 5321 §4.1.1.1:
// a letter or digit, then letters, digits and hyphens) are ignored.
func parseEHLO(lines []string) map[string]string {
	ext := make(map[string]string)
	if len(lines) < 2 {
		return ext
	}
	for _, line := range lines[1:] {
		keyword, param, _ := strings.Cut(line, " ")
		if !validKeyword(keyword) {
			continue
		}
		ext[strings.ToUpper(keyword)] = strings.TrimSpace(param)
	}
	return ext
}

func validKeyword(k string) bool {
	if k == "" || k[0] == '-' {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// Extension reports whether the server offers the service extension name
// in its latest EHLO reply, and returns the extension's parameters. Names
// are compared without regard to case (RFC 5321 §2.4). After STARTTLS,
// only the EHLO reply received over TLS counts (RFC 3207 §4.2).
func (s *Session) Extension(name string) (param string, ok bool) {
	param, ok = s.ext[strings.ToUpper(name)]
	return param, ok
}

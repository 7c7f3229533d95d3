package smtp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"
)

// ProxyCommand is a Dialer that runs a command for each connection and
// uses the command's standard input and output as the connection, as
// OpenSSH's ProxyCommand does: "ssh -W %h:%p relay" carries the
// connection through relay, while TLS stays end to end.
type ProxyCommand struct {
	words []string
	// Stderr receives the command's standard error; nil discards it.
	Stderr io.Writer
}

// NewProxyCommand parses command into words once, without a shell.
// Spaces and tabs separate words. Single quotes keep everything up to the
// next single quote, and double quotes keep everything but \" and \\,
// which stand for " and \. A backslash outside quotes keeps the next
// character. In each word, %h becomes the server's IP address (in
// brackets for IPv6), %p the port, and %% a percent sign. No shell parses
// the result, so nothing from DNS can reach one.
func NewProxyCommand(command string) (*ProxyCommand, error) {
	words, err := splitWords(command)
	if err != nil {
		return nil, fmt.Errorf("smtp: proxy command %q: %w", command, err)
	}
	if len(words) == 0 {
		return nil, errors.New("smtp: the proxy command is empty")
	}
	for _, w := range words {
		if _, err := expandWord(w, "", ""); err != nil {
			return nil, fmt.Errorf("smtp: proxy command %q: %w", command, err)
		}
	}
	return &ProxyCommand{words: words}, nil
}

// Args returns the command's words for the server at addr, as they are
// passed to the program.
func (p *ProxyCommand) Args(addr netip.AddrPort) []string {
	host := addr.Addr().Unmap().String()
	if addr.Addr().Is6() && !addr.Addr().Is4In6() {
		host = "[" + host + "]"
	}
	port := strconv.Itoa(int(addr.Port()))
	args := make([]string, len(p.words))
	for i, w := range p.words {
		args[i], _ = expandWord(w, host, port)
	}
	return args
}

// DialContext starts the command for address, an IP address and port.
// ctx limits only the start of the command; the command runs until the
// connection is closed.
func (p *ProxyCommand) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	addr, err := netip.ParseAddrPort(address)
	if err != nil {
		return nil, fmt.Errorf("smtp: the proxy command is given only IP addresses, not %q", address)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	args := p.Args(addr)
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stderr = p.Stderr

	// os.Pipe, unlike Cmd.StdinPipe, gives files that support deadlines.
	childIn, toChild, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("smtp: proxy command: %w", err)
	}
	fromChild, childOut, err := os.Pipe()
	if err != nil {
		childIn.Close()
		toChild.Close()
		return nil, fmt.Errorf("smtp: proxy command: %w", err)
	}
	cmd.Stdin, cmd.Stdout = childIn, childOut
	err = cmd.Start()
	childIn.Close()
	childOut.Close()
	if err != nil {
		toChild.Close()
		fromChild.Close()
		return nil, fmt.Errorf("smtp: starting the proxy command %q: %w", args[0], err)
	}
	return &commandConn{cmd: cmd, w: toChild, r: fromChild, remote: net.TCPAddrFromAddrPort(addr)}, nil
}

// commandConn is a connection over a child process's standard input and
// output.
type commandConn struct {
	cmd    *exec.Cmd
	w      *os.File // the child's standard input
	r      *os.File // the child's standard output
	remote net.Addr

	closeOnce sync.Once
	closeErr  error
}

func (c *commandConn) Read(p []byte) (int, error)  { return c.r.Read(p) }
func (c *commandConn) Write(p []byte) (int, error) { return c.w.Write(p) }

// Close closes the pipes, kills the command and waits for it to end.
func (c *commandConn) Close() error {
	c.closeOnce.Do(func() {
		c.w.Close()
		c.r.Close()
		c.cmd.Process.Kill()
		err := c.cmd.Wait()
		var exit *exec.ExitError
		if err != nil && !errors.As(err, &exit) {
			c.closeErr = fmt.Errorf("smtp: waiting for the proxy command: %w", err)
		}
	})
	return c.closeErr
}

func (c *commandConn) LocalAddr() net.Addr  { return commandAddr(c.cmd.Path) }
func (c *commandConn) RemoteAddr() net.Addr { return c.remote }

func (c *commandConn) SetDeadline(t time.Time) error {
	return errors.Join(c.r.SetReadDeadline(t), c.w.SetWriteDeadline(t))
}

func (c *commandConn) SetReadDeadline(t time.Time) error  { return c.r.SetReadDeadline(t) }
func (c *commandConn) SetWriteDeadline(t time.Time) error { return c.w.SetWriteDeadline(t) }

// commandAddr is the local end of a commandConn: the program's path.
type commandAddr string

func (a commandAddr) Network() string { return "proxy-command" }
func (a commandAddr) String() string  { return string(a) }

// splitWords splits s into words as NewProxyCommand describes.
func splitWords(s string) ([]string, error) {
	var words []string
	var word strings.Builder
	inWord := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t':
			if inWord {
				words = append(words, word.String())
				word.Reset()
				inWord = false
			}
			continue
		case c == '\'':
			end := strings.IndexByte(s[i+1:], '\'')
			if end < 0 {
				return nil, errors.New("unterminated single quote")
			}
			word.WriteString(s[i+1 : i+1+end])
			i += 1 + end
		case c == '"':
			n, err := readDoubleQuoted(s[i+1:], &word)
			if err != nil {
				return nil, err
			}
			i += n
		case c == '\\':
			if i+1 == len(s) {
				return nil, errors.New("backslash at the end")
			}
			i++
			word.WriteByte(s[i])
		case c == '\n' || c == '\r':
			return nil, errors.New("line break in the command")
		default:
			word.WriteByte(c)
		}
		inWord = true
	}
	if inWord {
		words = append(words, word.String())
	}
	return words, nil
}

// readDoubleQuoted copies the text after an opening double quote to word
// and returns the number of octets up to and including the closing quote.
func readDoubleQuoted(s string, word *strings.Builder) (int, error) {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"':
			return i + 1, nil
		case c == '\\' && i+1 < len(s) && (s[i+1] == '"' || s[i+1] == '\\'):
			i++
			word.WriteByte(s[i])
		default:
			word.WriteByte(c)
		}
	}
	return 0, errors.New("unterminated double quote")
}

// expandWord substitutes %h, %p and %% in w.
func expandWord(w, host, port string) (string, error) {
	if !strings.Contains(w, "%") {
		return w, nil
	}
	var b strings.Builder
	for i := 0; i < len(w); i++ {
		if w[i] != '%' {
			b.WriteByte(w[i])
			continue
		}
		if i+1 == len(w) {
			return "", errors.New("% at the end of a word; write %% for a percent sign")
		}
		i++
		switch w[i] {
		case 'h':
			b.WriteString(host)
		case 'p':
			b.WriteString(port)
		case '%':
			b.WriteByte('%')
		default:
			return "", fmt.Errorf("unknown %%%c; only %%h, %%p and %%%% are substituted", w[i])
		}
	}
	return b.String(), nil
}

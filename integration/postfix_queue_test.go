package integration

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// queueSender is the envelope sender of the messages that the queue test
// submits. The pipe(8) transport passes it to mxclient with -f ${sender},
// and the receiver records it in Return-Path.
const queueSender = "sender@client.test"

// queueClientTimeout is mxclient's --timeout in the pipe(8) command, and
// queueTimeLimit is the transport's time limit, which must be longer so
// that pipe(8) never kills mxclient before it exits with its own status.
const (
	queueClientTimeout = "30s"
	queueTimeLimit     = "60s"
)

// postfixQueue is a Postfix instance without an SMTP listener that takes
// messages from its sendmail command and delivers those for one lab
// domain with mxclient send through pipe(8).
type postfixQueue struct {
	postfixInstance
}

// queueConfig is what a postfixQueue delivers and how it runs mxclient.
type queueConfig struct {
	// domain is the one domain that the pipe(8) transport delivers to.
	// Every other destination is error(8).
	domain string
	// mxclientBin is the mxclient binary to copy where the user= account
	// of pipe(8) can run it.
	mxclientBin string
	// anchorFile is the trust anchor file to copy beside the binary.
	anchorFile string
	// resolver is the address of the lab's Unbound upstream.
	resolver string
}

// TestIntegrationPostfixQueue puts a Postfix queue in front of mxclient:
// a message submitted to it reaches the receiver through the pipe(8)
// transport, a message submitted while the receiver is stopped stays
// deferred, and postqueue -f delivers it exactly once after the receiver
// starts again.
func TestIntegrationPostfixQueue(t *testing.T) {
	requireDNSTools(t)
	requirePostfix(t)
	start := time.Now()
	bin := buildMxclient(t)

	mxHost := "mx." + daneEEDomain
	cert, err := newMailCert(filepath.Join(t.TempDir(), "smtpd-chain.pem"), []string{mxHost})
	if err != nil {
		t.Fatalf("making the server certificate: %v", err)
	}
	l := buildLabWith(t, func(b block) []zoneSpec {
		return []zoneSpec{mailZone(daneEEDomain, b.addr(hostPostfix), "3 1 1 "+cert.spkiSHA256)}
	})
	addr := l.block.addr(hostPostfix)
	if _, err := l.ns.run("", "ip", "address", "add", addr+"/32", "dev", "lo"); err != nil {
		t.Fatal(err)
	}
	receiver := startPostfix(t, l.ns, postfixConfig{
		addr:      addr,
		hostname:  mxHost,
		domains:   []string{daneEEDomain},
		chainFile: cert.chainFile,
		rejected:  "rejected@" + daneEEDomain,
	})
	queue := startPostfixQueue(t, l.ns, queueConfig{
		domain:      daneEEDomain,
		mxclientBin: bin,
		anchorFile:  l.anchorFile,
		resolver:    l.unboundAddr(),
	})
	t.Logf("mxclient built, lab and both Postfix instances started in %v", time.Since(start).Round(time.Millisecond))

	logs := func() string {
		return "--- queue log\n" + queue.log() + "--- receiver log\n" + receiver.log()
	}

	// The first message goes straight through.
	recipient := "queued@" + daneEEDomain
	first := queueTestMessage(recipient, "first")
	known, err := receiver.messages()
	if err != nil {
		t.Fatal(err)
	}
	queue.submit(t, recipient, first)
	queue.waitLogLines(t, "status=sent", 1, logs)
	path := receiver.waitNewMessage(t, known, mailDelivery)
	checkQueueDelivered(t, path, first)
	queue.waitEmpty(t, logs)

	// With the receiver stopped, mxclient exits 75 and the message stays
	// in the deferred queue.
	receiver.stop(t)
	if receiver.running() {
		t.Fatalf("the receiver still runs after postfix stop\n%s", logs())
	}
	known, err = receiver.messages()
	if err != nil {
		t.Fatal(err)
	}
	second := queueTestMessage(recipient, "second")
	queue.submit(t, recipient, second)
	deferral := queue.waitLogLines(t, "status=deferred", 1, logs)[0]
	t.Logf("queue log: %s", deferral)
	// pipe(8) logs exit status 75 (EX_TEMPFAIL) as "temporary failure";
	// other temporary statuses have other texts.
	if !strings.Contains(deferral, "relay="+queueTransport) || !strings.Contains(deferral, "temporary failure") {
		t.Errorf("queue log line %q does not show mxclient exiting 75 (temporary failure)\n%s", deferral, logs())
	}
	listing, err := l.ns.run(queue.dir, "postqueue", "-c", queue.dir, "-p")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(listing, recipient) {
		t.Errorf("postqueue -p does not list %s:\n%s\n%s", recipient, listing, logs())
	}
	queued, err := queue.queued()
	if err != nil {
		t.Fatal(err)
	}
	if len(queued) != 1 || !strings.Contains(queued[0], string(filepath.Separator)+"deferred"+string(filepath.Separator)) {
		t.Errorf("the queue holds %v, want one message in deferred\n%s", queued, logs())
	}
	if paths, err := receiver.messages(); err != nil {
		t.Fatal(err)
	} else if len(paths) != len(known) {
		t.Errorf("the maildir holds %d messages while the receiver is stopped, want %d\n%s", len(paths), len(known), logs())
	}

	// Started again, the receiver gets the message once from postqueue -f.
	if err := receiver.start(); err != nil {
		t.Fatal(err)
	}
	if _, err := l.ns.run(queue.dir, "postqueue", "-c", queue.dir, "-f"); err != nil {
		t.Fatal(err)
	}
	queue.waitLogLines(t, "status=sent", 2, logs)
	path = receiver.waitNewMessage(t, known, mailDelivery)
	checkQueueDelivered(t, path, second)
	queue.waitEmpty(t, logs)
	// A second copy would come from a second delivery attempt, which the
	// queue log would record as a second status=sent.
	if sent := strings.Count(queue.log(), "status=sent"); sent != 2 {
		t.Errorf("the queue log has %d lines with status=sent, want 2 (one per message)\n%s", sent, logs())
	}
	paths, err := receiver.messages()
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) != len(known)+1 {
		t.Errorf("the maildir holds %d messages after the flush, want %d\n%s", len(paths), len(known)+1, logs())
	}
}

// queueTransport is the master.cf name of the pipe(8) transport.
const queueTransport = "mxclient"

// startPostfixQueue copies mxclient and the trust anchor where pipe(8)'s
// user= account can read them, writes the configuration of a queue for
// c.domain into a new directory, starts Postfix in ns, and stops it when t
// ends.
func startPostfixQueue(t *testing.T, ns *netns, c queueConfig) *postfixQueue {
	t.Helper()
	dir := makePostfixDir(t)
	q := &postfixQueue{newPostfixInstance(ns, dir)}
	if err := q.writeConfig(c); err != nil {
		t.Fatal(err)
	}
	q.checkAndStart(t)
	return q
}

// writeConfig writes main.cf and master.cf, and copies the binary and the
// trust anchor into dir/bin, which every user may read.
func (q *postfixQueue) writeConfig(c queueConfig) error {
	dataDir, err := q.makeQueueAndDataDirs()
	if err != nil {
		return err
	}
	binDir := filepath.Join(q.dir, "bin")
	if err := os.Mkdir(binDir, 0o755); err != nil {
		return err
	}
	bin := filepath.Join(binDir, "mxclient")
	if err := copyFile(c.mxclientBin, bin, 0o755); err != nil {
		return err
	}
	anchor := filepath.Join(binDir, "root.ds")
	if err := copyFile(c.anchorFile, anchor, 0o644); err != nil {
		return err
	}

	// Only c.domain goes to the pipe(8) transport. Every other
	// destination, bounces included, is error(8), so the instance sends
	// nothing anywhere else.
	noDelivery := "error:5.7.1 this test instance only delivers to " + c.domain
	main := fmt.Sprintf(`compatibility_level = 3.6
queue_directory = %[1]s
data_directory = %[2]s
maillog_file = %[3]s
maillog_file_prefixes = %[4]s
myhostname = queue.client.test
mydestination =
relay_domains =
inet_interfaces = all
inet_protocols = ipv4
append_dot_mydomain = no
biff = no
alias_maps =
alias_database =
local_recipient_maps =
default_transport = %[5]s
relay_transport = %[5]s
local_transport = %[5]s
virtual_transport = %[5]s
transport_maps = inline:{%[6]s=%[7]s:}
%[7]s_destination_recipient_limit = 1
%[7]s_time_limit = %[8]s
`, q.queueDir, dataDir, q.logPath, q.dir, noDelivery, c.domain, queueTransport, queueTimeLimit)
	if err := os.WriteFile(filepath.Join(q.dir, "main.cf"), []byte(main), 0o644); err != nil {
		return err
	}

	// The chroot column is n throughout: the private queue directory has
	// no copy of /etc for a jail. The pipe(8) service must run as root
	// (unprivileged n) to switch to its user= account.
	master := fmt.Sprintf(`pickup    unix  n - n 60    1 pickup
cleanup   unix  n - n -     0 cleanup
qmgr      unix  n - n 300   1 qmgr
rewrite   unix  - - n -     - trivial-rewrite
bounce    unix  - - n -     0 bounce
defer     unix  - - n -     0 bounce
trace     unix  - - n -     0 bounce
verify    unix  - - n -     1 verify
flush     unix  n - n 1000? 0 flush
proxymap  unix  - - n -     - proxymap
showq     unix  n - n -     - showq
error     unix  - - n -     - error
retry     unix  - - n -     - error
discard   unix  - - n -     - discard
anvil     unix  - - n -     1 anvil
scache    unix  - - n -     1 scache
postlog   unix-dgram n - n - 1 postlogd
%[1]s  unix  - n n -     - pipe
  flags= user=nobody null_sender=
  argv=%[2]s send --dns-mode upstream --resolver %[3]s --trust-anchor %[4]s
  --timeout %[5]s --helo queue.client.test -q -f ${sender} -- ${recipient}
`, queueTransport, bin, c.resolver, anchor, queueClientTimeout)
	return os.WriteFile(filepath.Join(q.dir, "master.cf"), []byte(master), 0o644)
}

// copyFile copies the file src to dst with the permission bits perm.
func copyFile(src, dst string, perm os.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// submit submits message to recipient with the instance's sendmail
// command, as a local program would.
func (q *postfixQueue) submit(t *testing.T, recipient string, message []byte) {
	t.Helper()
	sendmail, err := runTool(q.dir, "postconf", "-c", q.dir, "-h", "sendmail_path")
	if err != nil {
		t.Fatal(err)
	}
	cmd := q.ns.command(strings.TrimSpace(sendmail), "-C", q.dir, "-i", "-f", queueSender, "--", recipient)
	cmd.Stdin = bytes.NewReader(message)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("sendmail -C %s %s: %v\n%s\n--- queue log\n%s", q.dir, recipient, err, out, q.log())
	}
}

// waitLogLines waits until count lines of the instance's log contain
// text, and returns those lines. It fails the test with logs() if fewer
// do within mailDelivery.
func (q *postfixQueue) waitLogLines(t *testing.T, text string, count int, logs func() string) []string {
	t.Helper()
	deadline := time.Now().Add(mailDelivery)
	for {
		var found []string
		for _, line := range strings.Split(q.log(), "\n") {
			if strings.Contains(line, text) {
				found = append(found, line)
			}
		}
		if len(found) >= count {
			return found
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d lines of the queue log contain %q after %v, want %d\n%s",
				len(found), text, mailDelivery, count, logs())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitEmpty waits until the instance's queue is empty. It fails the test
// with logs() if the queue still holds a message after mailDelivery.
func (q *postfixQueue) waitEmpty(t *testing.T, logs func() string) {
	t.Helper()
	deadline := time.Now().Add(mailDelivery)
	for {
		queued, err := q.queued()
		if err != nil {
			t.Fatal(err)
		}
		if len(queued) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the queue still holds %v after %v\n%s", queued, mailDelivery, logs())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// queueTestMessage returns a message to recipient whose Message-ID and
// body contain label, with LF line ends as Postfix stores them.
func queueTestMessage(recipient, label string) []byte {
	return []byte("From: Sender <" + queueSender + ">\n" +
		"To: <" + recipient + ">\n" +
		"Subject: delivery through the Postfix queue\n" +
		"Date: Mon, 02 Jun 2025 10:00:00 +0000\n" +
		"Message-ID: <postfix-queue." + label + "@client.test>\n" +
		"\n" +
		"The " + label + " message through pipe(8) and mxclient send.\n")
}

// checkQueueDelivered checks that the message at path has the body and
// the Message-ID of sent, and the envelope sender that the queue passed
// to mxclient with -f.
func checkQueueDelivered(t *testing.T, path string, sent []byte) {
	t.Helper()
	delivered, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	header, body, ok := bytes.Cut(delivered, []byte("\n\n"))
	if !ok {
		t.Fatalf("the delivered message has no empty line after its header:\n%s", delivered)
	}
	sentHeader, sentBody, _ := bytes.Cut(sent, []byte("\n\n"))
	if !bytes.Equal(body, sentBody) {
		t.Errorf("delivered body %q, want %q", body, sentBody)
	}
	fields := headerFields(string(header))
	for _, want := range headerFields(string(sentHeader)) {
		if strings.HasPrefix(want, "Message-ID:") && !slices.Contains(fields, want) {
			t.Errorf("the delivered header does not contain %q:\n%s", want, header)
		}
	}
	returnPath := "Return-Path: <" + queueSender + ">\n"
	if !slices.Contains(fields, returnPath) {
		t.Errorf("the delivered header does not contain %q:\n%s", returnPath, header)
	}
}

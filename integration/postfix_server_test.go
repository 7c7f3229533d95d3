package integration

import (
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// virtualUID is the account that Postfix's virtual(8) writes the maildir
// as: nobody on Debian.
const virtualUID = 65534

// postfixInstance is a Postfix instance with its own configuration and
// queue directory, run in a network namespace.
type postfixInstance struct {
	ns *netns
	// dir holds main.cf, master.cf, the queue, the data directory and the
	// log.
	dir      string
	queueDir string
	logPath  string
}

// postfixReceiver is a Postfix instance that accepts mail for some
// domains on port 25 of one address and delivers it to a single maildir.
// It sends no mail: every transport other than virtual(8) is error(8),
// and master.cf has no SMTP client service.
type postfixReceiver struct {
	postfixInstance
	// maildir is the maildir that virtual(8) delivers every message to.
	maildir string
}

// postfixConfig is what a postfixReceiver listens on and accepts.
type postfixConfig struct {
	// addr is the IPv4 address whose port 25 smtpd listens on.
	addr string
	// hostname is Postfix's myhostname, used in its banner.
	hostname string
	// domains are the virtual mailbox domains, whose every recipient
	// goes to the maildir.
	domains []string
	// chainFile holds the key and certificate chain that smtpd offers
	// with STARTTLS.
	chainFile string
	// rejected is a recipient that check_recipient_access rejects.
	rejected string
}

// requirePostfix skips the test unless Postfix is installed, its accounts
// exist and the test runs as root.
func requirePostfix(t *testing.T) {
	t.Helper()
	for _, program := range []string{"postfix", "postconf", "postqueue"} {
		if _, err := exec.LookPath(program); err != nil {
			skipMissingTool(t, "the Postfix integration test needs %s (Debian package postfix, "+
				"installed with main_mailer_type \"No configuration\" as .ci/run does)", program)
		}
	}
	if _, err := user.Lookup("postfix"); err != nil {
		skipMissingTool(t, "the Postfix integration test needs the postfix account, which the Debian package postfix creates: %v", err)
	}
	if os.Geteuid() != 0 {
		skipMissingTool(t, "the Postfix integration test starts Postfix, which needs root")
	}
}

// startPostfix writes the configuration of a receiver for c into a new
// directory, starts Postfix in ns, and stops it when t ends, also when the
// start fails halfway.
func startPostfix(t *testing.T, ns *netns, c postfixConfig) *postfixReceiver {
	t.Helper()
	dir := makePostfixDir(t)
	p := &postfixReceiver{
		postfixInstance: newPostfixInstance(ns, dir),
		maildir:         filepath.Join(dir, "mail", "inbox"),
	}
	if err := p.writeConfig(c); err != nil {
		t.Fatal(err)
	}
	p.checkAndStart(t)
	return p
}

// makePostfixDir makes a directory for a Postfix instance that t removes
// when it ends. Postfix's daemons, virtual(8) and the user= account of
// pipe(8) reach files in it as unprivileged users, so the directory must
// be searchable by everyone, which t.TempDir's parent is not.
func makePostfixDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "mxclient-postfix-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// newPostfixInstance returns an instance whose files are in dir.
func newPostfixInstance(ns *netns, dir string) postfixInstance {
	return postfixInstance{
		ns:       ns,
		dir:      dir,
		queueDir: filepath.Join(dir, "queue"),
		logPath:  filepath.Join(dir, "maillog"),
	}
}

// checkAndStart runs postfix check on the instance's configuration,
// starts it in its namespace, and stops it when t ends, also when the
// start fails halfway.
func (p *postfixInstance) checkAndStart(t *testing.T) {
	t.Helper()
	if _, err := runTool(p.dir, "postfix", "-c", p.dir, "check"); err != nil {
		t.Fatalf("postfix check of %s: %v\n%s", p.dir, err, p.log())
	}
	t.Cleanup(func() { p.stop(t) })
	if err := p.start(); err != nil {
		t.Fatal(err)
	}
}

// start starts the instance's master process in its namespace.
func (p *postfixInstance) start() error {
	if _, err := p.ns.run(p.dir, "postfix", "-c", p.dir, "start"); err != nil {
		return fmt.Errorf("starting Postfix in %s: %w\n%s", p.dir, err, p.log())
	}
	return nil
}

// running reports whether the instance's master process runs.
func (p *postfixInstance) running() bool {
	_, err := p.ns.run(p.dir, "postfix", "-c", p.dir, "status")
	return err == nil
}

// writeConfig writes main.cf, master.cf and the recipient access table,
// and makes the directories that Postfix does not make itself.
func (p *postfixReceiver) writeConfig(c postfixConfig) error {
	dataDir, err := p.makeQueueAndDataDirs()
	if err != nil {
		return err
	}
	mailBase := filepath.Dir(p.maildir)
	if err := os.Mkdir(mailBase, 0o755); err != nil {
		return err
	}
	if err := os.Chown(mailBase, virtualUID, virtualUID); err != nil {
		return err
	}

	accessFile := filepath.Join(p.dir, "recipient_access")
	access := fmt.Sprintf("/^%s$/ REJECT 5.7.1 this test rejects this recipient\n", regexp.QuoteMeta(c.rejected))
	if err := os.WriteFile(accessFile, []byte(access), 0o644); err != nil {
		return err
	}

	noDelivery := "error:5.7.1 this test instance only receives mail"
	main := fmt.Sprintf(`compatibility_level = 3.6
queue_directory = %[1]s
data_directory = %[2]s
maillog_file = %[3]s
maillog_file_prefixes = %[4]s
myhostname = %[5]s
mydestination =
relay_domains =
mynetworks = 127.0.0.1/32
inet_interfaces = all
inet_protocols = ipv4
smtpd_peername_lookup = no
append_dot_mydomain = no
biff = no
alias_maps =
alias_database =
local_recipient_maps =
default_transport = %[6]s
relay_transport = %[6]s
local_transport = %[6]s
smtpd_tls_security_level = may
smtpd_tls_chain_files = %[7]s
smtpd_tls_loglevel = 1
smtpd_relay_restrictions = reject_unauth_destination
smtpd_recipient_restrictions = check_recipient_access regexp:%[8]s
virtual_mailbox_domains = %[9]s
virtual_mailbox_base = %[10]s
virtual_mailbox_maps = static:%[11]s/
virtual_uid_maps = static:%[12]d
virtual_gid_maps = static:%[12]d
virtual_mailbox_limit = 0
message_size_limit = 0
`, p.queueDir, dataDir, p.logPath, p.dir, c.hostname, noDelivery, c.chainFile, accessFile,
		strings.Join(c.domains, " "), mailBase, filepath.Base(p.maildir), virtualUID)
	if err := os.WriteFile(filepath.Join(p.dir, "main.cf"), []byte(main), 0o644); err != nil {
		return err
	}

	// The chroot column is n throughout: the private queue directory has
	// no copy of /etc for a jail.
	master := fmt.Sprintf(`%s:25 inet n - n - - smtpd
pickup    unix  n - n 60    1 pickup
cleanup   unix  n - n -     0 cleanup
qmgr      unix  n - n 300   1 qmgr
tlsmgr    unix  - - n 1000? 1 tlsmgr
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
virtual   unix  - n n -     - virtual
anvil     unix  - - n -     1 anvil
scache    unix  - - n -     1 scache
postlog   unix-dgram n - n - 1 postlogd
`, c.addr)
	return os.WriteFile(filepath.Join(p.dir, "master.cf"), []byte(master), 0o644)
}

// makeQueueAndDataDirs makes the queue directory and the data directory,
// which the postfix account must own, and returns the data directory.
func (p *postfixInstance) makeQueueAndDataDirs() (string, error) {
	dataDir := filepath.Join(p.dir, "data")
	for _, d := range []string{p.queueDir, dataDir} {
		if err := os.Mkdir(d, 0o755); err != nil {
			return "", err
		}
	}
	postfixUser, err := user.Lookup("postfix")
	if err != nil {
		return "", err
	}
	postfixUID, err := strconv.Atoi(postfixUser.Uid)
	if err != nil {
		return "", err
	}
	if err := os.Chown(dataDir, postfixUID, -1); err != nil {
		return "", err
	}
	return dataDir, nil
}

// stop stops Postfix with postfix stop, and kills the master process if
// that fails. It does nothing when the instance does not run, so that a
// test may stop an instance itself before its cleanup.
func (p *postfixInstance) stop(t *testing.T) {
	if !p.running() {
		return
	}
	_, err := p.ns.run(p.dir, "postfix", "-c", p.dir, "stop")
	if err == nil {
		return
	}
	pidText, readErr := os.ReadFile(filepath.Join(p.queueDir, "pid", "master.pid"))
	if readErr != nil {
		// Postfix never started, or its master has already removed the
		// file on exit.
		return
	}
	t.Errorf("postfix -c %s stop: %v; killing the master process", p.dir, err)
	if pid, convErr := strconv.Atoi(strings.TrimSpace(string(pidText))); convErr == nil {
		if proc, findErr := os.FindProcess(pid); findErr == nil {
			proc.Kill()
		}
	}
}

// log returns Postfix's log so far.
func (p *postfixInstance) log() string {
	text, err := os.ReadFile(p.logPath)
	if err != nil {
		return fmt.Sprintf("(reading %s: %v)", p.logPath, err)
	}
	return string(text)
}

// messages returns the paths of the messages in the maildir's new and
// cur subdirectories.
func (p *postfixReceiver) messages() ([]string, error) {
	var paths []string
	for _, sub := range []string{"new", "cur"} {
		entries, err := os.ReadDir(filepath.Join(p.maildir, sub))
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			paths = append(paths, filepath.Join(p.maildir, sub, e.Name()))
		}
	}
	return paths, nil
}

// queued returns the paths of the messages in Postfix's queue, which
// holds a message from the end of DATA until delivery.
func (p *postfixInstance) queued() ([]string, error) {
	var paths []string
	for _, sub := range []string{"maildrop", "incoming", "active", "deferred", "hold", "corrupt"} {
		err := filepath.WalkDir(filepath.Join(p.queueDir, sub), func(path string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() {
				paths = append(paths, path)
			}
			return nil
		})
		if err != nil && !os.IsNotExist(err) {
			return nil, err
		}
	}
	return paths, nil
}

// waitNewMessage waits until the maildir holds a message that is not in
// known, and returns its path. It fails the test with Postfix's log if
// none arrives within timeout.
func (p *postfixReceiver) waitNewMessage(t *testing.T, known []string, timeout time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		paths, err := p.messages()
		if err != nil {
			t.Fatal(err)
		}
		for _, path := range paths {
			if !slices.Contains(known, path) {
				return path
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no new message in %s within %v\n--- Postfix log\n%s", p.maildir, timeout, p.log())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

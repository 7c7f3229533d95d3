package integration

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

const (
	// startTimeout bounds the wait for a server to answer its first query.
	startTimeout = 20 * time.Second
	// stopTimeout is how long a server has to exit after SIGTERM before it
	// is killed.
	stopTimeout = 10 * time.Second
)

// daemon is a server process that the test started in the foreground.
type daemon struct {
	name string
	cmd  *exec.Cmd
	// logPath holds the process's standard output and standard error.
	logPath string
	// exited is closed when the process has exited.
	exited chan struct{}
}

// startDaemon starts program in the foreground in the namespace ns, with
// its output in a log file under dir, and stops it when t ends.
func startDaemon(t *testing.T, ns *netns, name, dir, program string, args ...string) *daemon {
	t.Helper()
	d := &daemon{name: name, logPath: filepath.Join(dir, name+".log"), exited: make(chan struct{})}
	logFile, err := os.Create(d.logPath)
	if err != nil {
		t.Fatal(err)
	}
	d.cmd = ns.command(program, args...)
	d.cmd.Dir = dir
	d.cmd.Stdout = logFile
	d.cmd.Stderr = logFile
	if err := d.cmd.Start(); err != nil {
		logFile.Close()
		t.Fatalf("starting %s: %v", name, err)
	}
	go func() {
		d.cmd.Wait()
		logFile.Close()
		close(d.exited)
	}()
	t.Cleanup(d.stop)
	return d
}

// stop ends the process with SIGTERM, and with SIGKILL if it is still
// running after stopTimeout.
func (d *daemon) stop() {
	select {
	case <-d.exited:
		return
	default:
	}
	d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.exited:
	case <-time.After(stopTimeout):
		d.cmd.Process.Kill()
		<-d.exited
	}
}

// log returns the process's output so far.
func (d *daemon) log() string {
	text, err := os.ReadFile(d.logPath)
	if err != nil {
		return fmt.Sprintf("(reading %s: %v)", d.logPath, err)
	}
	return string(text)
}

// waitReady waits until the server at addr answers a query for qname SOA
// with NOERROR, and with the AA bit when authoritative is set. dig sends
// the query from inside the namespace. waitReady fails the test with the
// server's log if the process exits or the wait runs out.
func (d *daemon) waitReady(t *testing.T, ns *netns, addr, qname string, authoritative bool) {
	t.Helper()
	recursion := "+recurse"
	if authoritative {
		recursion = "+norecurse"
	}
	deadline := time.Now().Add(startTimeout)
	var last string
	for time.Now().Before(deadline) {
		select {
		case <-d.exited:
			t.Fatalf("%s exited during start-up: %v\n%s", d.name, d.cmd.ProcessState, d.log())
		default:
		}
		out, err := ns.run("", "dig", "+tries=1", "+time=1", recursion, "@"+addr, qname, "SOA")
		status, flags := digHeader(out)
		switch {
		case err != nil:
			last = err.Error()
		case status != "NOERROR" || authoritative && !slices.Contains(flags, "aa"):
			last = fmt.Sprintf("status %s, flags %v", status, flags)
		default:
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s at %s did not answer %s SOA within %v (last: %s)\n%s",
		d.name, addr, qname, startTimeout, last, d.log())
}

var (
	digStatus = regexp.MustCompile(`(?m)^;; ->>HEADER<<- .*status: ([A-Z]+),`)
	digFlags  = regexp.MustCompile(`(?m)^;; flags: ([a-z ]*);`)
)

// digHeader returns the status and the flags of the response that dig
// printed in out.
func digHeader(out string) (status string, flags []string) {
	if m := digStatus.FindStringSubmatch(out); m != nil {
		status = m[1]
	}
	if m := digFlags.FindStringSubmatch(out); m != nil {
		flags = strings.Fields(m[1])
	}
	return status, flags
}

// startServers starts one NSD instance per level of the hierarchy, named
// for the zones on the named hosts, and the Unbound upstream.
func (l *lab) startServers(t *testing.T) {
	t.Helper()
	zonesOn := make(map[int][]*labZone)
	for _, z := range l.zones {
		zonesOn[z.host] = append(zonesOn[z.host], z)
	}
	for _, host := range []int{hostRoot, hostTLD, hostLeaf, hostSub} {
		l.startNSD(t, host, zonesOn[host])
	}
	for _, host := range []int{hostNamedTLD, hostNamedLeaf} {
		l.startNamed(t, host, zonesOn[host])
	}
	l.startUnbound(t)
}

// serverDir makes a directory for the configuration and state of one
// server.
func (l *lab) serverDir(t *testing.T, name string) string {
	t.Helper()
	dir := filepath.Join(l.dir, name)
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// writeConfig writes a server's configuration file and checks it with the
// server's own checker.
func writeConfig(t *testing.T, path, text, checker string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := runTool(filepath.Dir(path), checker, path); err != nil {
		t.Fatalf("checking %s:\n%s\n%v", path, text, err)
	}
}

// startNSD starts an NSD instance that serves zones on host. NSD serves
// every zone it loads from every address it listens on, so each level of
// the hierarchy needs its own instance for referrals to work.
func (l *lab) startNSD(t *testing.T, host int, zones []*labZone) {
	t.Helper()
	name := fmt.Sprintf("nsd-%d", host)
	dir := l.serverDir(t, name)
	addr := l.block.addr(host)
	var b strings.Builder
	fmt.Fprintf(&b, `server:
	ip-address: %s
	port: 53
	do-ip4: yes
	do-ip6: no
	reuseport: no
	server-count: 1
	username: ""
	chroot: ""
	database: ""
	zonesdir: "%[2]s"
	zonelistfile: "%[2]s/zone.list"
	xfrdfile: "%[2]s/xfrd.state"
	pidfile: "%[2]s/nsd.pid"
	logfile: "%[2]s/nsd-messages.log"
	verbosity: 1
remote-control:
	control-enable: no
`, addr, dir)
	for _, z := range zones {
		fmt.Fprintf(&b, "zone:\n\tname: %q\n\tzonefile: %q\n", z.name, z.file)
	}
	conf := filepath.Join(dir, "nsd.conf")
	writeConfig(t, conf, b.String(), "nsd-checkconf")

	d := startDaemon(t, l.ns, name, dir, "nsd", "-d", "-c", conf)
	d.waitReady(t, l.ns, addr, zones[0].name, true)
}

// startNamed starts a named instance that serves zones on host. It has no
// control channel, so that it leaves 127.0.0.1:953 alone, and does no
// recursion or validation.
func (l *lab) startNamed(t *testing.T, host int, zones []*labZone) {
	t.Helper()
	name := fmt.Sprintf("named-%d", host)
	dir := l.serverDir(t, name)
	addr := l.block.addr(host)
	var b strings.Builder
	fmt.Fprintf(&b, `options {
	directory "%[2]s";
	pid-file "%[2]s/named.pid";
	session-keyfile "%[2]s/session.key";
	managed-keys-directory "%[2]s";
	listen-on port 53 { %[1]s; };
	listen-on-v6 { none; };
	recursion no;
	dnssec-validation no;
	notify no;
	allow-transfer { none; };
};
controls { };
`, addr, dir)
	for _, z := range zones {
		fmt.Fprintf(&b, "zone %q { type primary; file %q; };\n", z.name, z.file)
	}
	conf := filepath.Join(dir, "named.conf")
	writeConfig(t, conf, b.String(), "named-checkconf")

	d := startDaemon(t, l.ns, name, dir, "named", "-g", "-4", "-n", "1", "-c", conf)
	d.waitReady(t, l.ns, addr, zones[0].name, true)
}

// startUnbound starts the upstream resolver: Unbound with only its
// iterator module, so it passes signatures on without validating them.
// Its root-hints file names only the lab's root server.
func (l *lab) startUnbound(t *testing.T) {
	t.Helper()
	dir := l.serverDir(t, "unbound")
	addr := l.block.addr(hostUnbound)
	text := fmt.Sprintf(`server:
	interface: %[1]s
	port: 53
	outgoing-interface: %[1]s
	do-ip4: yes
	do-ip6: no
	so-reuseport: no
	num-threads: 1
	access-control: 127.0.0.0/8 allow
	username: ""
	chroot: ""
	directory: "%[2]s"
	pidfile: "%[2]s/unbound.pid"
	use-syslog: no
	logfile: ""
	verbosity: 1
	module-config: "iterator"
	root-hints: "%[3]s"
	do-not-query-localhost: no
	local-zone: "test." nodefault
remote-control:
	control-enable: no
`, addr, dir, l.hintsFile)
	conf := filepath.Join(dir, "unbound.conf")
	writeConfig(t, conf, text, "unbound-checkconf")
	hints, err := runTool(dir, "unbound-checkconf", "-o", "root-hints", conf)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(hints); got != l.hintsFile {
		t.Fatalf("unbound-checkconf -o root-hints %s = %q, want %q", conf, got, l.hintsFile)
	}

	d := startDaemon(t, l.ns, "unbound", dir, "unbound", "-d", "-c", conf)
	d.waitReady(t, l.ns, addr, "test.", false)
}

// unboundAddr returns the address of the Unbound upstream.
func (l *lab) unboundAddr() string {
	return l.block.addr(hostUnbound)
}

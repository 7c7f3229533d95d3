package integration

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"testing"
	"time"
)

// netns is a network namespace that the test creates, held open by a
// process that sleeps in it. Every server and client of the lab runs in
// it. That lets named listen on lab addresses, which named 9.18 does only
// for addresses assigned to an interface, without adding them to the
// host's loopback interface. The namespace has no interface but its own
// loopback, so nothing in it can send a packet off the machine or reach
// the host's resolver.
type netns struct {
	// path is the namespace's file, /proc/PID/ns/net of the holder.
	path string
}

// newNetns creates a network namespace whose loopback interface is up and
// carries the addresses of labHosts in b, and removes it when t ends.
func newNetns(t *testing.T, b block) *netns {
	t.Helper()
	holder := exec.Command("unshare", "--net", "--", "sleep", "infinity")
	var stderr bytes.Buffer
	holder.Stderr = &stderr
	if err := holder.Start(); err != nil {
		t.Fatalf("starting unshare --net: %v", err)
	}
	exited := make(chan struct{})
	go func() {
		holder.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		holder.Process.Kill()
		<-exited
	})
	n := &netns{path: fmt.Sprintf("/proc/%d/ns/net", holder.Process.Pid)}
	if err := n.waitUnshared(exited); err != nil {
		select {
		case <-exited:
			skipMissingTool(t, "the DNS integration suite runs its servers in a network namespace, "+
				"and unshare --net failed (it needs CAP_SYS_ADMIN): %v\n%s", holder.ProcessState, stderr.String())
		case <-time.After(time.Second):
		}
		t.Fatal(err)
	}

	if _, err := n.run("", "ip", "link", "set", "lo", "up"); err != nil {
		t.Fatal(err)
	}
	for _, host := range labHosts {
		if _, err := n.run("", "ip", "address", "add", b.addr(host)+"/32", "dev", "lo"); err != nil {
			t.Fatal(err)
		}
	}
	return n
}

// waitUnshared waits until the holder has left the test's network
// namespace, or until exited is closed. Until then n.path names the host's
// namespace, and commands run there would change the host's interfaces.
func (n *netns) waitUnshared(exited <-chan struct{}) error {
	self, err := os.Readlink("/proc/self/ns/net")
	if err != nil {
		return err
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		select {
		case <-exited:
			return fmt.Errorf("unshare --net exited before it created a network namespace")
		default:
		}
		ns, err := os.Readlink(n.path)
		if err != nil {
			return fmt.Errorf("reading the new network namespace: %w", err)
		}
		if ns != self {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("unshare --net did not leave the network namespace %s within 5s", self)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// command returns a command that runs program with args in the namespace.
// nsenter replaces itself with program, so the command's process is the
// program's.
func (n *netns) command(program string, args ...string) *exec.Cmd {
	return exec.Command("nsenter", append([]string{"--net=" + n.path, "--", program}, args...)...)
}

// run runs program with args in the namespace, in dir, and returns its
// standard output.
func (n *netns) run(dir, program string, args ...string) (string, error) {
	return runTool(dir, "nsenter", append([]string{"--net=" + n.path, "--", program}, args...)...)
}

package integration

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// minPairs and minPairsPerState are the least coverage the pair table
// must have.
const (
	minPairs         = 60
	minPairsPerState = 10
)

func TestIntegrationDNSPairTable(t *testing.T) {
	if len(pairs) < minPairs {
		t.Errorf("the pair table has %d pairs, want at least %d", len(pairs), minPairs)
	}
	counts := make(map[string]int)
	seen := make(map[string]bool)
	for _, p := range pairs {
		counts[p.want]++
		key := p.name + " " + p.qtype
		if seen[key] {
			t.Errorf("pair %s appears twice", key)
		}
		seen[key] = true
		if p.delvWant != "" && p.delvWrong == "" {
			t.Errorf("pair %s expects delv to report %s but gives no reason in delvWrong", key, p.delvWant)
		}
	}
	for _, state := range []string{secure, insecure, bogus} {
		if counts[state] < minPairsPerState {
			t.Errorf("the pair table has %d %s pairs, want at least %d", counts[state], state, minPairsPerState)
		}
	}

	// Every zone of the lab is asked about at least once.
	asked := make(map[string]bool)
	for _, p := range pairs {
		asked[zoneOf(p.name)] = true
	}
	for _, z := range labZones {
		if !asked[z.name] {
			t.Errorf("no pair asks about a name in zone %s", z.name)
		}
	}
}

// zoneOf returns the zone of labZones that name belongs to: the longest
// zone name that is a suffix of it.
func zoneOf(name string) string {
	best := "."
	for _, z := range labZones {
		if z.name != "." && (name == z.name || strings.HasSuffix(name, "."+z.name)) && len(z.name) > len(best) {
			best = z.name
		}
	}
	return best
}

// TestIntegrationDNS builds the lab and runs mxclient and delv on every
// pair, first with mxclient taking its data from the Unbound upstream, then
// with mxclient iterating from the lab's root hints. delv always queries
// Unbound.
func TestIntegrationDNS(t *testing.T) {
	requireDNSTools(t)
	start := time.Now()
	bin := buildMxclient(t)
	l := buildLab(t)
	t.Logf("mxclient built and lab started in %v", time.Since(start).Round(time.Millisecond))

	t.Run("upstream", func(t *testing.T) {
		source := []string{"--dns-mode", "upstream", "--resolver", l.unboundAddr()}
		l.compare(t, bin, source)
	})
	t.Run("iterate", func(t *testing.T) {
		source := []string{"--dns-mode", "iterate", "--root-hints", l.hintsFile}
		l.compare(t, bin, source)
	})
}

// compare runs mxclient, with the data source sourceArgs, and delv on
// every pair, and checks that they agree with each other and with the
// pair's expected state and rcode.
func (l *lab) compare(t *testing.T, bin string, sourceArgs []string) {
	for _, p := range pairs {
		t.Run(p.name+" "+p.qtype, func(t *testing.T) {
			t.Parallel()
			mx, err := l.mxclientLookup(bin, sourceArgs, p.name, p.qtype)
			if err != nil {
				t.Errorf("mxclient lookup %s %s: %v\n%s", p.name, p.qtype, err, mx.output)
				return
			}
			delv, err := l.delvLookup(p.name, p.qtype)
			if err != nil {
				t.Errorf("delv %s %s: %v\n%s", p.name, p.qtype, err, delv.output)
				return
			}
			t.Logf("mxclient = %v, delv = %v", mx, delv)
			checkPair(t, p, mx, delv)
		})
	}
}

// checkPair checks the verdicts of mxclient and delv on p against each
// other and against p's expected state and rcode, and prints both outputs
// on a failure.
func checkPair(t *testing.T, p pair, mx, delv verdict) {
	t.Helper()
	outputs := fmt.Sprintf("--- mxclient\n%s--- delv\n%s", mx.output, delv.output)
	q := p.name + " " + p.qtype

	if p.delvWant == "" && (mx.security != delv.security || mx.rcode != delv.rcode) {
		t.Errorf("%s: mxclient = %v, delv = %v (want %s, %s)\n%s", q, mx, delv, p.want, p.rcode, outputs)
		return
	}
	if mx.security != p.want || mx.rcode != p.rcode {
		t.Errorf("mxclient %s = %v, want %s, %s\n%s", q, mx, p.want, p.rcode, outputs)
	}

	if p.delvWant == "" {
		// delv agrees with mxclient, which the check above compared with
		// the expected state and rcode.
		return
	}
	if delv.security == p.want && delv.rcode == p.rcode {
		t.Errorf("delv %s = %v, the expected state and rcode now: remove the expected-disagreement note (%s)",
			q, delv, p.delvWrong)
		return
	}
	if delv.security != p.delvWant || delv.rcode != p.rcode {
		t.Errorf("delv %s = %v, want %s, %s as noted (%s)\n%s", q, delv, p.delvWant, p.rcode, p.delvWrong, outputs)
	}
}

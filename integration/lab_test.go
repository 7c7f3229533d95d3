package integration

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// lab is a DNS hierarchy built from labZones: keys, signed zone files, the
// trust anchor and root hints that lead to it, and the servers that serve
// it on the lab's address block.
type lab struct {
	dir   string
	block block
	// ns is the network namespace in which the servers and clients run.
	ns     *netns
	zones  []*labZone
	byName map[string]*labZone

	// anchorFile holds the root's DS record for mxclient --trust-anchor.
	anchorFile string
	// delvAnchorFile holds the same record in delv's trust-anchors syntax.
	delvAnchorFile string
	// hintsFile names the lab's root server, for Unbound and for mxclient
	// --root-hints.
	hintsFile string
}

// labZone is a zone of the lab with its keys, DS record and zone file.
type labZone struct {
	zoneSpec
	parent   *labZone
	children []*labZone
	// ksk and zsk are the key base names, empty in an unsigned zone.
	ksk, zsk string
	// dsKey is the key base name whose DS record the parent publishes,
	// and dsSigner the tool set that computes it. dsKey is empty for an
	// insecure delegation and for the root.
	dsKey    string
	dsSigner signer
	ds       string
	// file is the zone file that the server loads.
	file string
}

// toolParallelism is how many key generators or signers run at once.
const toolParallelism = 4

// buildLab makes the keys and zone files of labZones in a new temporary
// directory and starts the servers. Everything stops when t ends.
func buildLab(t *testing.T) *lab {
	t.Helper()
	return buildLabWith(t, nil)
}

// buildLabWith builds the lab as buildLab does, with the zones that extra
// returns for the lab's address block added to labZones. The pair table
// does not cover the extra zones, so only tests that build their own lab
// should add them.
func buildLabWith(t *testing.T, extra func(block) []zoneSpec) *lab {
	t.Helper()
	b := randomBlock()
	l := &lab{dir: t.TempDir(), block: b, byName: make(map[string]*labZone)}
	specs := labZones
	if extra != nil {
		specs = append(slices.Clip(labZones), extra(b)...)
	}
	if err := l.linkZones(specs); err != nil {
		t.Fatal(err)
	}

	start := time.Now()
	if err := l.generateKeys(); err != nil {
		t.Fatalf("generating keys: %v", err)
	}
	if err := l.computeDS(); err != nil {
		t.Fatalf("computing DS records: %v", err)
	}
	if err := l.writeAndSign(time.Now()); err != nil {
		t.Fatalf("signing zones: %v", err)
	}
	if err := l.writeAnchorsAndHints(); err != nil {
		t.Fatal(err)
	}
	t.Logf("lab in %s: %d zones keyed and signed in %v", b, len(l.zones), time.Since(start).Round(time.Millisecond))

	l.ns = newNetns(t, b)
	l.startServers(t)
	return l
}

// linkZones turns specs into labZone values and finds each zone's parent.
func (l *lab) linkZones(specs []zoneSpec) error {
	for _, spec := range specs {
		z := &labZone{zoneSpec: spec}
		l.zones = append(l.zones, z)
		l.byName[spec.name] = z
	}
	for _, z := range l.zones {
		if z.name == "." {
			continue
		}
		for p := parentName(z.name); ; p = parentName(p) {
			if parent, ok := l.byName[p]; ok {
				z.parent = parent
				parent.children = append(parent.children, z)
				break
			}
			if p == "." {
				return fmt.Errorf("zone %s has no parent zone in the lab", z.name)
			}
		}
	}
	return nil
}

// parentName returns name without its first label.
func parentName(name string) string {
	_, rest, ok := strings.Cut(name, ".")
	if !ok || rest == "" {
		return "."
	}
	return rest
}

// generateKeys makes a KSK and a ZSK for every signed zone, an unpublished
// key for a zone whose parent's DS names another key, and an unused key
// for a zone that has a DS record but is served unsigned.
func (l *lab) generateKeys() error {
	keyDir := filepath.Join(l.dir, "keys")
	if err := os.Mkdir(keyDir, 0o755); err != nil {
		return err
	}
	var jobs []func() error
	for _, z := range l.zones {
		jobs = append(jobs, func() error {
			var err error
			if z.signer != unsigned {
				if z.ksk, err = generateKey(z.signer, keyDir, z.name, z.alg, true); err != nil {
					return err
				}
				if z.zsk, err = generateKey(z.signer, keyDir, z.name, z.alg, false); err != nil {
					return err
				}
				z.dsKey, z.dsSigner = z.ksk, z.signer
			}
			switch z.fault {
			case dsOtherKey:
				z.dsKey, err = generateKey(z.signer, keyDir, z.name, z.alg, true)
			case dsUnsigned:
				z.dsKey, err = generateKey(ldnsSigner, keyDir, z.name, z.alg, true)
				z.dsSigner = ldnsSigner
			}
			return err
		})
	}
	return runParallel(jobs)
}

// computeDS computes the DS record of every zone that has a dsKey.
func (l *lab) computeDS() error {
	var jobs []func() error
	for _, z := range l.zones {
		if z.dsKey == "" {
			continue
		}
		jobs = append(jobs, func() error {
			var err error
			z.ds, err = dsRecord(z.dsSigner, z.dsKey)
			return err
		})
	}
	return runParallel(jobs)
}

// writeAndSign writes every zone file, with its delegations, and signs the
// signed zones.
func (l *lab) writeAndSign(now time.Time) error {
	zoneDir := filepath.Join(l.dir, "zones")
	if err := os.Mkdir(zoneDir, 0o755); err != nil {
		return err
	}
	var jobs []func() error
	for _, z := range l.zones {
		jobs = append(jobs, func() error {
			src := filepath.Join(zoneDir, zoneFileName(z.name))
			if err := os.WriteFile(src, []byte(l.zoneText(z)), 0o644); err != nil {
				return err
			}
			z.file = src
			if z.signer == unsigned {
				return nil
			}
			z.file = src + ".signed"
			return signZone(z.zoneSpec, src, z.file, z.ksk, z.zsk, now)
		})
	}
	return runParallel(jobs)
}

// zoneFileName returns a file name for the zone name.
func zoneFileName(name string) string {
	if name == "." {
		return "root.zone"
	}
	return strings.TrimSuffix(name, ".") + ".zone"
}

// nameServer returns the name of the zone's only name server.
func nameServer(zone string) string {
	if zone == "." {
		return "a.root-servers.lab."
	}
	return "ns1." + zone
}

// zoneText returns the unsigned zone file of z: SOA, NS and the name
// server's address, the body, the delegations with glue and DS records,
// and for BIND the $INCLUDE lines of its keys.
func (l *lab) zoneText(z *labZone) string {
	var b strings.Builder
	ns := nameServer(z.name)
	hostmaster := "hostmaster." + strings.TrimPrefix(z.name, ".")
	fmt.Fprintf(&b, "$ORIGIN %s\n$TTL 300\n", z.name)
	fmt.Fprintf(&b, "@ SOA %s %s 1 3600 600 86400 300\n", ns, hostmaster)
	fmt.Fprintf(&b, "@ NS %s\n%s A %s\n", ns, ns, l.block.addr(z.host))
	b.WriteString(z.body)
	b.WriteString("\n")

	children := append([]*labZone(nil), z.children...)
	sort.Slice(children, func(i, j int) bool { return children[i].name < children[j].name })
	for _, c := range children {
		cns := nameServer(c.name)
		fmt.Fprintf(&b, "%s NS %s\n%s A %s\n", c.name, cns, cns, l.block.addr(c.host))
		if c.ds != "" {
			b.WriteString(c.ds + "\n")
		}
	}
	if z.signer == bindSigner {
		fmt.Fprintf(&b, "$INCLUDE %s.key\n$INCLUDE %s.key\n", z.ksk, z.zsk)
	}
	return b.String()
}

// writeAnchorsAndHints writes the root's DS record in the two trust
// anchor syntaxes and the root hints.
func (l *lab) writeAnchorsAndHints() error {
	root := l.byName["."]
	rr, err := dns.NewRR(root.ds)
	if err != nil {
		return fmt.Errorf("root DS %q: %w", root.ds, err)
	}
	ds := rr.(*dns.DS)

	l.anchorFile = filepath.Join(l.dir, "root.ds")
	l.delvAnchorFile = filepath.Join(l.dir, "root.anchor")
	l.hintsFile = filepath.Join(l.dir, "root.hints")
	files := map[string]string{
		l.anchorFile: root.ds + "\n",
		l.delvAnchorFile: fmt.Sprintf("trust-anchors {\n\t. static-ds %d %d %d \"%s\";\n};\n",
			ds.KeyTag, ds.Algorithm, ds.DigestType, strings.ToUpper(ds.Digest)),
		l.hintsFile: fmt.Sprintf(".\t3600000\tNS\t%s\n%s\t3600000\tA\t%s\n",
			nameServer("."), nameServer("."), l.block.addr(hostRoot)),
	}
	for path, text := range files {
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// runParallel runs jobs, toolParallelism at a time, and returns their
// errors joined.
func runParallel(jobs []func() error) error {
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	sem := make(chan struct{}, toolParallelism)
	for _, job := range jobs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if err := job(); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

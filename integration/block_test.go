package integration

import (
	"fmt"
	"math/rand/v2"
)

// Host numbers inside the lab's 127.X.Y.0/24 block. Each server has its
// own address and listens on port 53, where the iterator sends its queries.
const (
	hostRoot      = 1  // NSD: the root zone
	hostTLD       = 2  // NSD: test.
	hostNamedTLD  = 3  // named: example.
	hostLeaf      = 4  // NSD: the zones below test. and example.
	hostSub       = 5  // NSD: the zones one level further down
	hostNamedLeaf = 6  // named: a few zones below example.
	hostUnbound   = 53 // Unbound: the upstream resolver
)

// labHosts lists every host number that a server of the lab binds.
var labHosts = []int{hostRoot, hostTLD, hostNamedTLD, hostLeaf, hostSub, hostNamedLeaf, hostUnbound}

// block is a 127.X.Y.0/24 address block.
type block [3]byte

// randomBlock returns a random 127.X.Y.0/24 block with X ≠ 0, as the
// dnssec test labs pick theirs. The lab runs in a network namespace of its
// own, where no other test binds, so the block needs no check.
func randomBlock() block {
	return block{127, byte(1 + rand.IntN(254)), byte(rand.IntN(256))}
}

// addr returns the IPv4 address of host in b.
func (b block) addr(host int) string {
	return fmt.Sprintf("%d.%d.%d.%d", b[0], b[1], b[2], host)
}

// String returns b in CIDR notation.
func (b block) String() string {
	return fmt.Sprintf("%d.%d.%d.0/24", b[0], b[1], b[2])
}

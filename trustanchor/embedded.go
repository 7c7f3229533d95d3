package trustanchor

import (
	_ "embed"
	"fmt"
	"sync"
)

// rootAnchorsXML is IANA's root-anchors.xml (TrustAnchor id
// 0C05FDD6-422C-4910-8ED6-430ED15E11C2, 1861 bytes), as published at
// https://data.iana.org/root-anchors/root-anchors.xml since KSK-2024 was
// added. It lists KSK-2010 (key tag 19036, retired on 2019-01-11),
// KSK-2017 (20326) and KSK-2024 (38696).
//
// NOTE: the text was transcribed from public copies of IANA's file, not
// downloaded and checked against IANA's signature (root-anchors.p7s). The
// KSK-2017 and KSK-2024 digests and public keys match /usr/share/dns/root.ds
// and root.key of Debian's dns-root-data 2024071801~deb12u1, which
// TestDebianRootData checks, and KSK-2010 and KSK-2017 match the example in
// RFC 9718. The parser checks each PublicKey against its Digest.
//
//go:embed root-anchors.xml
var rootAnchorsXML []byte

// embeddedSource is the Source of every embedded anchor.
const embeddedSource = "embedded IANA root anchors"

var embeddedAnchors = sync.OnceValue(func() []Anchor {
	anchors, err := parseXML(rootAnchorsXML, "root-anchors.xml")
	if err != nil {
		// TestEmbedded parses the same bytes, so a build whose tests pass
		// never reaches this.
		panic(fmt.Sprintf("trustanchor: embedded root anchors do not parse: %v", err))
	}
	for i := range anchors {
		anchors[i].Source = embeddedSource
	}
	return anchors
})

// Embedded returns the IANA root anchors compiled into the program: one DS
// anchor for each KeyDigest of IANA's root-anchors.xml, with its validity
// period. The list includes the retired KSK-2010, so callers pick the
// anchors for the validation time with Select. Each call returns new
// copies, which the caller may change.
func Embedded() []Anchor {
	anchors := embeddedAnchors()
	copies := make([]Anchor, len(anchors))
	for i, a := range anchors {
		copies[i] = a.clone()
	}
	return copies
}

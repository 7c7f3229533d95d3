package smtp

import (
	"strings"
	"testing"

	"github.com/mxclient/mxclient/dnssec/dnssectest"
)

// longZone is a zone name of 209 characters, so that a 64-octet local part
// at it makes a path longer than the 254 octets RFC 5321 §4.5.3.1.3 allows,
// although each part is within its own limit.
var longZone = strings.Repeat("a", 60) + "." + strings.Repeat("b", 60) + "." + strings.Repeat("c", 60) + "." + strings.Repeat("d", 20) + ".test."

func TestDeliverOverlongRecipient(t *testing.T) {
	t.Parallel()
	w := newMailWorld(t, longZone, dnssectest.ZoneOptions{}, "", receiver{host: "mx1"})
	domain := strings.TrimSuffix(longZone, ".")
	short := "b@" + domain
	long := strings.Repeat("l", 64) + "@" + domain
	if _, err := ParseAddress(long); err == nil {
		t.Errorf("ParseAddress(%q) accepted a path of %d octets, want an error", long, len(long))
	}
	// A caller that skips ParseAddress still gets the address refused
	// without anything sent, and the other recipient delivered.
	out, progress := w.deliver(t, domain, []string{short, long}, nil)
	byRcpt := map[string]Outcome{}
	for _, o := range out {
		byRcpt[o.Recipient] = o
	}
	if o := byRcpt[short]; o.Status != Delivered {
		t.Errorf("outcome for the valid recipient = %s (%v), want delivered\nprogress:\n%s", o.Status, o.Err, progress)
	}
	if o := byRcpt[long]; o.Status != Failed || o.Kind != InvalidAddress {
		t.Errorf("outcome for the over-long recipient = %s kind %d (%v), want failed kind %d (InvalidAddress)",
			o.Status, o.Kind, o.Err, InvalidAddress)
	}
}

func TestDeliverOverlongSender(t *testing.T) {
	t.Parallel()
	w := newMailWorld(t, longZone, dnssectest.ZoneOptions{}, "", receiver{host: "mx1"})
	domain := strings.TrimSuffix(longZone, ".")
	out, progress := w.deliver(t, domain, []string{"b@" + domain}, func(d *Delivery) {
		d.From = strings.Repeat("s", 64) + "@" + domain
	})
	checkOutcome(t, out, progress, Failed, InvalidAddress)
}

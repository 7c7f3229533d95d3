package dnssec

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/mxclient/mxclient/trustanchor"
)

// replayConfig is what the runner takes from a file's config block.
type replayConfig struct {
	anchors []trustanchor.Anchor
	// date is the val-override-date. It is zero when the file gives "-1",
	// Unbound's setting for ignoring signature dates, or no date at all.
	date time.Time
	// zones are the stub-zone and forward-zone clauses in file order.
	zones []replayZone
	// qnameMinimisation is Unbound's qname-minimisation, on by default.
	qnameMinimisation bool
	// nsec3Iterations and maxQueries feed Limits; zero keeps the default.
	nsec3Iterations int
	maxQueries      int
	// options records every server option as written, for the skip rules.
	options map[string][]string
}

// replayZone is a stub-zone (servers asked iteratively) or a forward-zone
// (recursive resolvers asked with RD).
type replayZone struct {
	name    string
	forward bool
	addrs   []netip.AddrPort
}

// replayIgnoredOption is an option that changes nothing the runner
// compares: with any value when value is empty, else only with value.
type replayIgnoredOption struct {
	value  string
	reason string
}

// replayIgnoredOptions are the options the runner accepts and ignores.
// Options that are applied are handled in applyServerOption and
// applyZoneOption, and options that make the runner skip a file are in
// replaySkipRules.
var replayIgnoredOptions = map[string]replayIgnoredOption{
	"target-fetch-policy":       {"", "prefetches name server addresses, which changes traffic only"},
	"fake-sha1":                 {"", "the runner verifies every signature for real"},
	"fake-dsa":                  {"", "the runner verifies DSA signatures for real"},
	"trust-anchor-signaling":    {"", "RFC 8145 key tag queries change traffic only"},
	"minimal-responses":         {"", "the authority and additional sections are not compared"},
	"iter-scrub-promiscuous":    {"", "scrubs out-of-zone records, which the validator ignores anyway"},
	"harden-unknown-additional": {"", "the additional section is not compared"},
	"harden-referral-path":      {"no", "Unbound's default: referrals are not validated on the way down"},
	"access-control":            {"", "client access control, and the runner is the only client"},
	"ede":                       {"", "extended DNS errors (RFC 8914) are not compared"},
	"log-servfail":              {"", "logging"},
	"val-log-level":             {"", "logging"},
	"rrset-roundrobin":          {"", "record order is not compared"},
	"local-zone":                {"test. nodefault", "the product serves no local zones, so test. needs no exception"},
	"val-max-restart":           {"", "retries other servers after a bogus answer, which changes traffic only"},
	"directory":                 {"", "file locations"},
	"stub-prime":                {"", "the stub's addresses are asked directly, primed or not"},
}

func isIgnoredReplayOption(key, value string) bool {
	o, ok := replayIgnoredOptions[key]
	return ok && (o.value == "" || o.value == value)
}

// parseReplayConfig reads the config block up to CONFIG_END.
func parseReplayConfig(r *replayReader) (replayConfig, error) {
	cfg := replayConfig{qnameMinimisation: true, options: map[string][]string{}}
	clause := ""
	var zone *replayZone
	for {
		line, ok, err := r.next(";#")
		if err != nil {
			return cfg, err
		}
		if !ok {
			return cfg, r.errorf("CONFIG_END missing")
		}
		if line == "CONFIG_END" {
			break
		}
		key, value, found := strings.Cut(line, ":")
		key, value = strings.TrimSpace(key), strings.Trim(strings.TrimSpace(value), `"`)
		if !found {
			return cfg, r.errorf("config line %q is not KEY: VALUE", line)
		}
		switch key {
		case "server", "stub-zone", "forward-zone":
			if value != "" {
				return cfg, r.errorf("%s: takes no value", key)
			}
			clause, zone = key, nil
			if key != "server" {
				cfg.zones = append(cfg.zones, replayZone{forward: key == "forward-zone"})
				zone = &cfg.zones[len(cfg.zones)-1]
			}
			continue
		}
		switch clause {
		case "server":
			err = cfg.applyServerOption(key, value)
		case "stub-zone", "forward-zone":
			err = applyZoneOption(zone, clause, key, value)
		default:
			err = fmt.Errorf("option %s outside a clause", key)
		}
		if err != nil {
			return cfg, r.errorf("%v", err)
		}
	}
	for _, z := range cfg.zones {
		if z.name == "" || len(z.addrs) == 0 {
			return cfg, r.errorf("a stub-zone or forward-zone needs a name and an address")
		}
	}
	return cfg, nil
}

func (cfg *replayConfig) applyServerOption(key, value string) error {
	cfg.options[key] = append(cfg.options[key], value)
	switch key {
	case "trust-anchor":
		a, err := parseReplayAnchor(value)
		if err != nil {
			return err
		}
		cfg.anchors = append(cfg.anchors, a)
	case "val-override-date":
		if value == "-1" {
			return nil
		}
		t, err := time.Parse("20060102150405", value)
		if err != nil {
			return fmt.Errorf("val-override-date %q is not YYYYMMDDhhmmss or -1", value)
		}
		cfg.date = t
	case "qname-minimisation", "query-minimization":
		on, err := replayBool(key, value)
		cfg.qnameMinimisation = on
		return err
	case "val-nsec3-keysize-iterations":
		return cfg.applyNSEC3Iterations(value)
	case "max-global-quota":
		n, err := strconv.Atoi(value)
		if err != nil || n <= 0 {
			return fmt.Errorf("max-global-quota %q is not a positive number", value)
		}
		// Unbound counts the queries sent for one client query and its
		// subqueries, as Limits.MaxQueries does.
		cfg.maxQueries = n
	default:
		if isIgnoredReplayOption(key, value) {
			return nil
		}
		if isReplaySkipOption(key) {
			return nil
		}
		return fmt.Errorf("unsupported server option %s: %q; apply it, or list it in "+
			"replayIgnoredOptions or replaySkipRules", key, value)
	}
	return nil
}

// applyNSEC3Iterations maps Unbound's per-key-size NSEC3 iteration limits,
// "BITS ITERATIONS ..." in ascending key size, to the one limit of Limits.
// NOTE: it takes the limit of the smallest key size listed, which is exact
// for zones whose keys are no larger than that (every key in Unbound's
// files is 1024 bits or less) and stricter than Unbound for larger keys.
func (cfg *replayConfig) applyNSEC3Iterations(value string) error {
	fields := strings.Fields(value)
	if len(fields) < 2 || len(fields)%2 != 0 {
		return fmt.Errorf("val-nsec3-keysize-iterations %q is not pairs of key size and iterations", value)
	}
	for _, f := range fields {
		if n, err := strconv.Atoi(f); err != nil || n < 0 {
			return fmt.Errorf("val-nsec3-keysize-iterations %q: %q is not a number", value, f)
		}
	}
	n, _ := strconv.Atoi(fields[1])
	if n == 0 {
		// Limits takes zero for its default.
		return fmt.Errorf("val-nsec3-keysize-iterations %q: a limit of 0 iterations cannot be set in Limits", value)
	}
	cfg.nsec3Iterations = n
	return nil
}

func applyZoneOption(zone *replayZone, clause, key, value string) error {
	switch key {
	case "name":
		zone.name = dns.CanonicalName(value)
		if _, ok := dns.IsDomainName(zone.name); !ok {
			return fmt.Errorf("%s name %q is not a domain name", clause, value)
		}
	case "stub-addr", "forward-addr":
		if (key == "forward-addr") != zone.forward {
			return fmt.Errorf("%s in a %s clause", key, clause)
		}
		addr, err := parseReplayAddr(value)
		if err != nil {
			return fmt.Errorf("%s: %v", key, err)
		}
		zone.addrs = append(zone.addrs, addr)
	default:
		if isIgnoredReplayOption(key, value) {
			return nil
		}
		return fmt.Errorf("unknown %s option %q", clause, key)
	}
	return nil
}

// parseReplayAnchor parses a trust-anchor string: one DS or DNSKEY record
// in presentation form.
func parseReplayAnchor(text string) (trustanchor.Anchor, error) {
	rr, err := dns.NewRR(text)
	if err != nil || rr == nil {
		return trustanchor.Anchor{}, fmt.Errorf("trust-anchor %q is not a record: %v", text, err)
	}
	switch r := rr.(type) {
	case *dns.DS:
		r.Digest = strings.ToLower(r.Digest)
		return trustanchor.Anchor{DS: r, Source: "trust-anchor"}, nil
	case *dns.DNSKEY:
		return trustanchor.Anchor{DNSKEY: r, Source: "trust-anchor"}, nil
	}
	return trustanchor.Anchor{}, fmt.Errorf("trust-anchor %q is neither DS nor DNSKEY", text)
}

func replayBool(key, value string) (bool, error) {
	switch value {
	case "yes":
		return true, nil
	case "no":
		return false, nil
	}
	return false, fmt.Errorf("%s %q is not yes or no", key, value)
}

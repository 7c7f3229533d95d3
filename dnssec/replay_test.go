package dnssec

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/mxclient/mxclient/trustanchor"
)

// replayDefaultDir holds Unbound's val_*.rpl files, relative to this
// package's directory, when MXCLIENT_RPL_DIR is not set.
const replayDefaultDir = "../../shared/corpora/unbound-val"

var (
	replayTrace  = flag.Bool("replay.trace", false, "print the queries and the validation chain of the step where a replay file fails")
	replayFilter = flag.String("replay.run", "", "run only the replay files whose names match this regular expression")
	replayNoSkip = flag.Bool("replay.noskip", false, "count as failed the replay files that a skip rule would skip")
)

// replayLookupTimeout bounds one client query. Every answer comes from
// memory, so only a runaway lookup comes near it.
const replayLookupTimeout = 30 * time.Second

// TestReplay runs Unbound's validator replay files. Each file scripts the
// answers of fake authoritative servers and the answers a validating
// resolver must give its client. The runner serves the scripted answers in
// process (replay_server_test.go), resolves each client query with a
// Validator over an Iterator or Upstream, and compares the outcome
// (replay_check_test.go).
//
//	MXCLIENT_RPL_DIR=DIR go test -v -run TestReplay ./dnssec/
//
// runs every .rpl file in DIR and prints one line per file: PASS, FAIL with
// the first difference, or SKIP with the reason (replay_skip_test.go).
// The last line gives the totals. The flags -replay.run, -replay.trace and
// -replay.noskip go after -args.
func TestReplay(t *testing.T) {
	dir := os.Getenv("MXCLIENT_RPL_DIR")
	if dir == "" {
		dir = replayDefaultDir
	}
	paths := replayPaths(t, dir)
	// Many files sign with 512-bit RSA keys, which Go rejects by default.
	t.Setenv("GODEBUG", strings.Trim(os.Getenv("GODEBUG")+",rsa1024min=0", ","))
	t.Cleanup(registerReplayDSA())

	var passed, failed, skipped int
	for _, path := range paths {
		res := runReplayPath(path)
		switch res.status {
		case "PASS":
			passed++
		case "FAIL":
			failed++
		case "SKIP":
			skipped++
		}
		line := res.status + " " + filepath.Base(path)
		if res.detail != "" {
			line += ": " + res.detail
		}
		fmt.Println(line)
		if *replayTrace {
			for _, l := range res.trace {
				fmt.Println("\t" + l)
			}
		}
	}
	fmt.Printf("replay: %d passed, %d failed, %d skipped\n", passed, failed, skipped)
	if failed > 0 {
		t.Errorf("%d of %d replay files failed; rerun with -args -replay.trace for the queries and chains", failed, len(paths))
	}
}

// replayPaths lists the .rpl files of dir that -replay.run selects, and
// fails the test when there are none.
func replayPaths(t *testing.T, dir string) []string {
	t.Helper()
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("replay: %v; set MXCLIENT_RPL_DIR to a folder of .rpl files", err)
	}
	all, err := filepath.Glob(filepath.Join(dir, "*.rpl"))
	if err != nil {
		t.Fatal(err)
	}
	filter, err := regexp.Compile(*replayFilter)
	if err != nil {
		t.Fatalf("replay: -replay.run: %v", err)
	}
	var paths []string
	for _, p := range all {
		if filter.MatchString(filepath.Base(p)) {
			paths = append(paths, p)
		}
	}
	if len(paths) == 0 {
		t.Fatalf("replay: no .rpl files in %s match %q", dir, *replayFilter)
	}
	return paths
}

// replayResult is the verdict on one file.
type replayResult struct {
	// status is PASS, FAIL or SKIP.
	status string
	detail string
	// trace holds the queries and the chain of the failed step.
	trace []string
	// query is the QUERY step whose answer failed its check, if any.
	query *replayStep
}

// runReplayPath runs one file. A file that a skip rule names (see
// replaySkipReason) still runs: it passes when its outcomes match, and is
// skipped, with its first difference, when they do not.
func runReplayPath(path string) replayResult {
	f, err := loadReplayFile(path)
	if err != nil {
		return replayResult{status: "FAIL", detail: "parse: " + err.Error()}
	}
	res := runReplayWithCache(f)
	if res.status != "FAIL" || *replayNoSkip {
		return res
	}
	if reason := replaySkipReason(f, res.query); reason != "" {
		return replayResult{status: "SKIP", detail: reason + "; it fails at " + res.detail}
	}
	return res
}

// runReplayWithCache runs f, and when it fails with queries that no entry
// answers, runs it again with those queries answered as Unbound's cache
// would. A file that passes only then is skipped for Unbound's caching
// policy. A file that still fails reports the second run, because its
// difference is no longer about missing answers.
func runReplayWithCache(f *replayFile) replayResult {
	res, net := runReplay(f, false)
	if unanswered, _ := net.cacheUse(); res.status != "FAIL" || unanswered == 0 {
		return res
	}
	filledRes, filledNet := runReplay(f, true)
	_, filledQueries := filledNet.cacheUse()
	if len(filledQueries) == 0 {
		return res
	}
	filled := strings.Join(filledQueries, ", ")
	switch {
	case filledRes.status == "PASS" && *replayNoSkip:
		return filledRes
	case filledRes.status == "PASS":
		return replayResult{status: "SKIP", detail: fmt.Sprintf("Unbound caching policy: "+
			"no server answers %s, which Unbound answers from its cache; with the records of "+
			"earlier responses the file passes", filled)}
	}
	filledRes.detail += fmt.Sprintf(" (with %s answered from earlier responses, as Unbound's cache does)", filled)
	filledRes.trace = append(filledRes.trace, "without answers from earlier responses: "+res.detail)
	return filledRes
}

// replayClock is the validation time: the file's val-override-date, moved
// on by TIME_PASSES.
type replayClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *replayClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *replayClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// replayAnswer is the result of a QUERY step, waiting for its CHECK_ANSWER.
type replayAnswer struct {
	step  *replayStep
	res   *Result
	trace []string
}

// runReplay runs the steps of f against one Validator, so that its cache
// carries over from step to step as Unbound's does. With fillFromCache,
// queries that no entry answers get the answers Unbound's cache would give.
func runReplay(f *replayFile, fillFromCache bool) (replayResult, *replayNet) {
	net := &replayNet{ranges: f.ranges, fillFromCache: fillFromCache}
	return runReplaySteps(f, net), net
}

func runReplaySteps(f *replayFile, net *replayNet) replayResult {
	fail := func(format string, args ...any) replayResult {
		return replayResult{status: "FAIL", detail: fmt.Sprintf(format, args...)}
	}
	start, err := replayStartTime(f)
	if err != nil {
		return fail("%v", err)
	}
	clock := &replayClock{now: start}
	src, err := replaySource(f.config, net)
	if err != nil {
		return fail("%v", err)
	}
	v, err := New(Config{Source: src, Anchors: replayAnchors(f.config), Now: clock.Now,
		Limits: Limits{NSEC3MaxIterations: f.config.nsec3Iterations, MaxQueries: f.config.maxQueries}})
	if err != nil {
		return fail("%v", err)
	}

	var pending []replayAnswer
	var notes []string
	for i, st := range f.steps {
		switch st.kind {
		case replayQuery:
			// Unbound's harness answers a query from the ranges that
			// cover the step after the QUERY.
			rangeStep := st.number
			if i+1 < len(f.steps) {
				rangeStep = f.steps[i+1].number
			}
			pending = append(pending, replayLookup(v, net, st, rangeStep))
		case replayCheckAnswer:
			if len(pending) == 0 {
				return fail("step %d: CHECK_ANSWER without a QUERY before it", st.number)
			}
			a := pending[0]
			pending = pending[1:]
			detail := checkReplayAnswer(a, st)
			switch {
			case detail != "":
				return replayResult{status: "FAIL", detail: detail, trace: a.trace, query: a.step}
			case a.res.Security == Indeterminate && len(notes) == 0:
				// A SERVFAIL that the lookup's own failure to get data
				// produced matches, but carries less weight than a bogus
				// verdict, so the PASS line shows it.
				notes = append(notes, fmt.Sprintf("SERVFAIL of step %d comes from an indeterminate result: %s",
					st.number, Explain(a.res.Reason)))
			}
		case replayTimePasses:
			clock.advance(st.elapse)
		case replayTraffic:
			// Every lookup has finished by now: nothing is pending.
		}
	}
	if len(pending) > 0 {
		return fail("step %d: QUERY without a CHECK_ANSWER", pending[0].step.number)
	}
	return replayResult{status: "PASS", detail: strings.Join(notes, "; ")}
}

// replayAnchors returns the file's trust anchors. A file without one runs
// Unbound with no anchor, so that every answer is insecure (RFC 4035
// §4.3). Config requires an anchor, so the runner then gives one for the
// reserved name invalid. (RFC 6761 §6.4), which no file queries.
func replayAnchors(cfg replayConfig) []trustanchor.Anchor {
	if len(cfg.anchors) > 0 {
		return cfg.anchors
	}
	ds := &dns.DS{Hdr: dns.RR_Header{Name: "invalid.", Rrtype: dns.TypeDS, Class: dns.ClassINET},
		KeyTag: 1, Algorithm: dns.ECDSAP256SHA256, DigestType: dns.SHA256, Digest: strings.Repeat("00", 32)}
	return []trustanchor.Anchor{{DS: ds, Source: "runner: no trust-anchor in the file"}}
}

// replayLookup resolves the client query of a QUERY step, with the
// servers answering from the ranges that cover rangeStep.
func replayLookup(v *Validator, net *replayNet, st *replayStep, rangeStep int) replayAnswer {
	q := st.entry.msg.Question[0]
	ctx, cancel := context.WithTimeout(context.Background(), replayLookupTimeout)
	defer cancel()
	net.startLookup(rangeStep)
	res, err := v.Lookup(ctx, q.Name, q.Qtype)
	if err != nil && res == nil {
		res = &Result{Name: q.Name, Type: q.Qtype, Rcode: dns.RcodeServerFailure, Security: Indeterminate, Reason: err}
	}
	trace := net.takeLog()
	for _, s := range res.Chain {
		trace = append(trace, "chain: "+s.String())
	}
	if res.Reason != nil {
		trace = append(trace, "reason: "+res.Reason.Error())
	}
	return replayAnswer{step: st, res: res, trace: trace}
}

// checkReplayAnswer compares a lookup with the CHECK_ANSWER step that
// follows it and returns the first difference, or "".
func checkReplayAnswer(a replayAnswer, check *replayStep) string {
	q, want := a.step.entry.msg.Question[0], check.entry.msg.Question[0]
	where := fmt.Sprintf("step %d (%s %s)", check.number, q.Name, dns.TypeToString[q.Qtype])
	if !equalNames(q.Name, want.Name) || q.Qtype != want.Qtype {
		return fmt.Sprintf("%s: the check expects an answer to %s %s", where, want.Name, dns.TypeToString[want.Qtype])
	}
	got := resolverOutcome(a.res, a.step.entry.msg)
	diff := diffOutcome(got, expectedOutcome(check.entry))
	if diff == "" {
		return ""
	}
	detail := fmt.Sprintf("%s: %s; validator: %s", where, diff, a.res.Security)
	if a.res.Reason != nil {
		detail += ": " + Explain(a.res.Reason)
	}
	return detail
}

// replayStartTime returns the validation time of the first step: the
// val-override-date, or for "-1" (ignore signature dates) an instant inside
// the validity period of every RRSIG the servers hand out. That keeps the
// dates checked, so Config needs no switch to ignore them.
func replayStartTime(f *replayFile) (time.Time, error) {
	if !f.config.date.IsZero() {
		return f.config.date, nil
	}
	var latestInception, earliestExpiration time.Time
	for _, r := range f.ranges {
		for _, e := range r.entries {
			for _, rr := range slices.Concat(e.msg.Answer, e.msg.Ns, e.msg.Extra) {
				sig, ok := rr.(*dns.RRSIG)
				if !ok {
					continue
				}
				inception, expiration := time.Unix(int64(sig.Inception), 0), time.Unix(int64(sig.Expiration), 0)
				if latestInception.IsZero() || inception.After(latestInception) {
					latestInception = inception
				}
				if earliestExpiration.IsZero() || expiration.Before(earliestExpiration) {
					earliestExpiration = expiration
				}
			}
		}
	}
	if latestInception.IsZero() || earliestExpiration.Before(latestInception) {
		return time.Time{}, fmt.Errorf("val-override-date is -1 or missing, and no instant lies inside every RRSIG validity period")
	}
	return latestInception.Add(earliestExpiration.Sub(latestInception) / 2), nil
}

package main

import (
	"encoding/json"
	"errors"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/mxclient/mxclient/dnssec/dnssectest"
)

// presentation returns the zone-file line that miekg/dns prints for the
// record in text, as lookup prints answer records.
func presentation(t *testing.T, text string) string {
	t.Helper()
	rr, err := dns.NewRR(text)
	if err != nil {
		t.Fatalf("dns.NewRR(%q) = %v", text, err)
	}
	return rr.String()
}

func TestLookupText(t *testing.T) {
	t.Parallel()
	l := newLabLookup(t, dnssectest.Normal)
	tests := []struct {
		name       string
		args       []string
		want       int
		wantStatus string
		// wantReason is text that the "; reason: " line must contain; ""
		// means that there is no such line.
		wantReason string
		wantAnswer []string
	}{
		{
			name:       "secure A",
			args:       []string{"www.example.test", "A"},
			wantStatus: "; www.example.test. A: secure, NOERROR",
			wantAnswer: []string{presentation(t, "www.example.test. 3600 IN A 192.0.2.1")},
		},
		{
			name:       "secure MX",
			args:       []string{"example.test", "MX"},
			wantStatus: "; example.test. MX: secure, NOERROR",
			wantAnswer: []string{presentation(t, "example.test. 3600 IN MX 10 mail.example.test.")},
		},
		{
			name:       "name in upper case with final dot",
			args:       []string{"WWW.Example.TEST.", "A"},
			wantStatus: "; www.example.test. A: secure, NOERROR",
			wantAnswer: []string{presentation(t, "www.example.test. 3600 IN A 192.0.2.1")},
		},
		{
			name:       "generic type",
			args:       []string{"gen.example.test", "TYPE65534"},
			wantStatus: "; gen.example.test. TYPE65534: secure, NOERROR",
			wantAnswer: []string{presentation(t, `gen.example.test. 3600 IN TYPE65534 \# 3 abcdef`)},
		},
		{
			name:       "secure NXDOMAIN",
			args:       []string{"nope.example.test", "A"},
			wantStatus: "; nope.example.test. A: secure, NXDOMAIN",
		},
		{
			name:       "secure NODATA",
			args:       []string{"www.example.test", "AAAA"},
			wantStatus: "; www.example.test. AAAA: secure, NOERROR",
		},
		{
			name:       "insecure",
			args:       []string{"www.unsigned.example.test", "A"},
			wantStatus: "; www.unsigned.example.test. A: insecure, NOERROR",
			wantReason: "unsigned.example.test. is an unsigned delegation",
			wantAnswer: []string{presentation(t, "www.unsigned.example.test. 3600 IN A 192.0.2.7")},
		},
		{
			name:       "bogus",
			args:       []string{"www.expired.test", "A"},
			want:       exitDataErr,
			wantStatus: "; www.expired.test. A: bogus, SERVFAIL",
			wantReason: "signature expired",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := invoke(t, l.args(tt.args...)...)
			if got.code != tt.want {
				t.Errorf("lookup %q = %d, want %d\n%v", tt.args, got.code, tt.want, got)
			}
			checkStream(t, "stderr", got.stderr, "")
			if !strings.HasSuffix(got.stdout, "\n") {
				t.Fatalf("lookup %q stdout = %q, want lines that end in a newline", tt.args, got.stdout)
			}
			lines := strings.Split(strings.TrimSuffix(got.stdout, "\n"), "\n")

			if lines[0] != tt.wantStatus {
				t.Errorf("lookup %q status line = %q, want %q", tt.args, lines[0], tt.wantStatus)
			}
			lines = lines[1:]
			if tt.wantReason != "" {
				if len(lines) == 0 || !strings.HasPrefix(lines[0], "; reason: ") {
					t.Fatalf("lookup %q prints no \"; reason: \" line after the status:\n%s",
						tt.args, got.stdout)
				}
				if !strings.Contains(lines[0], tt.wantReason) {
					t.Errorf("lookup %q reason = %q, want it to contain %q", tt.args, lines[0], tt.wantReason)
				}
				lines = lines[1:]
			}
			if !slices.Equal(lines, tt.wantAnswer) {
				t.Errorf("lookup %q answer lines = %q, want %q", tt.args, lines, tt.wantAnswer)
			}
		})
	}
}

// chainStep is one step of the chain of trust as lookup prints it, in
// --json output or in a --trace line.
type chainStep struct {
	Zone     string `json:"zone"`
	Check    string `json:"check"`
	Name     string `json:"name"`
	Type     string `json:"type"`
	Security string `json:"security"`
	Detail   string `json:"detail"`
}

// checkSecureChain checks that steps prove qname and qtype in the last of
// zones: the trust anchor first, then for each zone the DS record in its
// parent and its DNSKEY RRset, in order, and the RRSIG of the answer last.
// Every step must be secure.
func checkSecureChain(t *testing.T, steps []chainStep, zones []string, qname, qtype string) {
	t.Helper()
	if len(steps) == 0 {
		t.Fatalf("chain is empty, want it to start at the trust anchor")
	}
	if got := steps[0]; got.Check != "trust anchor" || got.Zone != "." {
		t.Errorf("chain step 1 = %q in zone %q, want \"trust anchor\" in zone \".\"", got.Check, got.Zone)
	}
	for i, st := range steps {
		if st.Security != "secure" {
			t.Errorf("chain step %d (%s %s %s %s) = %s, want secure",
				i+1, st.Check, st.Zone, st.Name, st.Type, st.Security)
		}
	}

	find := func(check, zone, name, typ string) int {
		i := slices.IndexFunc(steps, func(st chainStep) bool {
			return st.Check == check && st.Zone == zone && st.Name == name && st.Type == typ
		})
		if i < 0 {
			t.Errorf("chain has no %s step for %s %s in zone %s", check, name, typ, zone)
		}
		return i
	}
	previous := 0
	for i, zone := range zones {
		if i > 0 {
			ds := find("DS", zones[i-1], zone, "DS")
			if ds >= 0 && ds < previous {
				t.Errorf("chain step %d checks the DS of %s before the DNSKEY of its parent", ds+1, zone)
			}
			previous = max(previous, ds)
		}
		dnskey := find("DNSKEY", zone, zone, "DNSKEY")
		if dnskey >= 0 && dnskey < previous {
			t.Errorf("chain step %d checks the DNSKEY of %s before its DS", dnskey+1, zone)
		}
		previous = max(previous, dnskey)
	}
	last := zones[len(zones)-1]
	if rrsig := find("RRSIG", last, qname, qtype); rrsig >= 0 && rrsig < previous {
		t.Errorf("chain step %d checks the RRSIG of the answer before the DNSKEY of %s", rrsig+1, last)
	}
}

// traceLine matches a step of the --trace output: its number, then what
// Step.String prints. The security word is the first one after ": " that
// names a state, since the names and the detail may contain ": " too.
var traceLine = regexp.MustCompile(
	`^;; +(\d+)\. (.*?): (secure|insecure|bogus|indeterminate)(?: \((.*)\))?( \[cached\])?$`)

// parseTrace splits --trace output into its header, its steps and the lines
// after the blank line that ends the trace.
func parseTrace(t *testing.T, stdout string) (header string, steps []chainStep, rest []string) {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
	header = lines[0]
	for i, line := range lines[1:] {
		if line == "" {
			return header, steps, lines[i+2:]
		}
		m := traceLine.FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("trace line %q is not \";; N. CHECK NAME [TYPE] [in zone ZONE]: SECURITY (DETAIL)\"", line)
		}
		if n, _ := strconv.Atoi(m[1]); n != len(steps)+1 {
			t.Errorf("trace line %q has number %d, want %d", line, n, len(steps)+1)
		}
		st := chainStep{Security: m[3], Detail: m[4]}
		head := m[2]
		if rest, ok := strings.CutPrefix(head, "trust anchor "); ok {
			st.Check, head = "trust anchor", rest
		} else {
			st.Check, head, _ = strings.Cut(head, " ")
		}
		// Step.String leaves out the zone when it is the name, and the
		// type when it is the check.
		head, zone, inZone := strings.Cut(head, " in zone ")
		fields := strings.Fields(head)
		switch len(fields) {
		case 1:
			st.Name = fields[0]
		case 2:
			st.Name, st.Type = fields[0], fields[1]
		default:
			t.Fatalf("trace line %q does not read CHECK NAME [TYPE] [in zone ZONE]", line)
		}
		st.Zone = st.Name
		if inZone {
			st.Zone = zone
		}
		if st.Type == "" && (st.Check == "DS" || st.Check == "DNSKEY") {
			st.Type = st.Check
		}
		steps = append(steps, st)
	}
	t.Fatalf("trace output has no blank line after the steps:\n%s", stdout)
	return "", nil, nil
}

func TestLookupTrace(t *testing.T) {
	t.Parallel()
	l := newLabLookup(t, dnssectest.Normal)

	t.Run("secure", func(t *testing.T) {
		t.Parallel()
		got := invoke(t, l.args("--trace", "www.example.test", "A")...)
		if got.code != exitOK {
			t.Errorf("lookup --trace = %d, want %d\n%v", got.code, exitOK, got)
		}
		checkStream(t, "stderr", got.stderr, "")
		header, steps, rest := parseTrace(t, got.stdout)
		if want := ";; chain of trust for www.example.test. A"; header != want {
			t.Errorf("trace header = %q, want %q", header, want)
		}
		checkSecureChain(t, steps, []string{".", "test.", "example.test."}, "www.example.test.", "A")
		want := []string{
			"; www.example.test. A: secure, NOERROR",
			presentation(t, "www.example.test. 3600 IN A 192.0.2.1"),
		}
		if !slices.Equal(rest, want) {
			t.Errorf("lines after the trace = %q, want %q", rest, want)
		}
	})

	t.Run("bogus", func(t *testing.T) {
		t.Parallel()
		got := invoke(t, l.args("--trace", "www.expired.test", "A")...)
		if got.code != exitDataErr {
			t.Errorf("lookup --trace = %d, want %d\n%v", got.code, exitDataErr, got)
		}
		checkStream(t, "stderr", got.stderr, "")
		_, steps, rest := parseTrace(t, got.stdout)
		if len(steps) == 0 {
			t.Fatal("bogus trace has no steps")
		}

		// The chain is secure down to the DS of expired.test. in test., and
		// breaks at the expired signature of the DNSKEY RRset.
		broken := steps[len(steps)-1]
		checkSecureChain(t, steps[:len(steps)-1], []string{".", "test."}, "expired.test.", "DS")
		if broken.Security != "bogus" || broken.Zone != "expired.test." {
			t.Errorf("last trace step = %s in zone %q, want bogus in zone \"expired.test.\"",
				broken.Security, broken.Zone)
		}
		if !strings.Contains(broken.Detail, "signature expired") {
			t.Errorf("last trace step detail = %q, want it to say \"signature expired\"", broken.Detail)
		}
		if len(rest) != 2 || rest[0] != "; www.expired.test. A: bogus, SERVFAIL" ||
			!strings.HasPrefix(rest[1], "; reason: ") {
			t.Errorf("lines after the trace = %q, want the bogus status and reason lines only", rest)
		}
	})
}

// lookupDoc is the --json document of lookup, as a script would decode it.
type lookupDoc struct {
	Name     string      `json:"name"`
	Type     string      `json:"type"`
	Rcode    string      `json:"rcode"`
	Security string      `json:"security"`
	Answer   []string    `json:"answer"`
	Reason   string      `json:"reason"`
	Chain    []chainStep `json:"chain"`
}

// decodeLookupJSON decodes stdout as exactly one JSON document and checks
// that the members of the schema are present, even when empty, and that the
// lists are never null.
func decodeLookupJSON(t *testing.T, stdout string) lookupDoc {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(stdout))
	var raw map[string]json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		t.Fatalf("decoding --json output: %v\n%s", err, stdout)
	}
	if err := dec.Decode(new(json.RawMessage)); !errors.Is(err, io.EOF) {
		t.Errorf("--json output holds more than one JSON document (second Decode = %v)", err)
	}
	for _, member := range []string{"name", "type", "rcode", "security", "answer", "chain"} {
		if _, ok := raw[member]; !ok {
			t.Errorf("--json output lacks %q:\n%s", member, stdout)
		}
	}
	for _, list := range []string{"answer", "chain"} {
		if string(raw[list]) == "null" {
			t.Errorf("--json %s = null, want a list, [] when empty", list)
		}
	}
	var rawSteps []map[string]json.RawMessage
	if err := json.Unmarshal(raw["chain"], &rawSteps); err != nil {
		t.Fatalf("decoding --json chain: %v", err)
	}
	for i, st := range rawSteps {
		for _, member := range []string{"zone", "check", "security"} {
			if _, ok := st[member]; !ok {
				t.Errorf("--json chain step %d lacks %q", i+1, member)
			}
		}
	}

	var doc lookupDoc
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
		t.Fatalf("decoding --json output into a struct: %v", err)
	}
	return doc
}

func TestLookupJSON(t *testing.T) {
	t.Parallel()
	normal := newLabLookup(t, dnssectest.Normal)
	servfail := newLabLookup(t, dnssectest.ServFail)
	tests := []struct {
		name       string
		args       []string
		want       int
		wantDoc    lookupDoc
		wantReason string
	}{
		{
			name: "secure",
			args: normal.args("--json", "www.example.test", "A"),
			wantDoc: lookupDoc{
				Name:     "www.example.test.",
				Type:     "A",
				Rcode:    "NOERROR",
				Security: "secure",
				Answer:   []string{presentation(t, "www.example.test. 3600 IN A 192.0.2.1")},
			},
		},
		{
			name: "generic type",
			args: normal.args("--json", "gen.example.test", "TYPE65534"),
			wantDoc: lookupDoc{
				Name:     "gen.example.test.",
				Type:     "TYPE65534",
				Rcode:    "NOERROR",
				Security: "secure",
				Answer:   []string{presentation(t, `gen.example.test. 3600 IN TYPE65534 \# 3 abcdef`)},
			},
		},
		{
			name: "insecure",
			args: normal.args("--json", "www.unsigned.example.test", "A"),
			wantDoc: lookupDoc{
				Name:     "www.unsigned.example.test.",
				Type:     "A",
				Rcode:    "NOERROR",
				Security: "insecure",
				Answer:   []string{presentation(t, "www.unsigned.example.test. 3600 IN A 192.0.2.7")},
			},
			wantReason: "unsigned.example.test. is an unsigned delegation",
		},
		{
			name: "secure NXDOMAIN",
			args: normal.args("--json", "nope.example.test", "A"),
			wantDoc: lookupDoc{
				Name:     "nope.example.test.",
				Type:     "A",
				Rcode:    "NXDOMAIN",
				Security: "secure",
				Answer:   []string{},
			},
		},
		{
			name: "bogus",
			args: normal.args("--json", "www.expired.test", "A"),
			want: exitDataErr,
			wantDoc: lookupDoc{
				Name:     "www.expired.test.",
				Type:     "A",
				Rcode:    "SERVFAIL",
				Security: "bogus",
				Answer:   []string{},
			},
			wantReason: "signature expired",
		},
		{
			name: "indeterminate",
			args: servfail.args("--json", "www.example.test", "A"),
			want: exitTempFail,
			wantDoc: lookupDoc{
				Name:     "www.example.test.",
				Type:     "A",
				Rcode:    "SERVFAIL",
				Security: "indeterminate",
				Answer:   []string{},
			},
			wantReason: "SERVFAIL",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := invoke(t, tt.args...)
			if got.code != tt.want {
				t.Errorf("lookup %q = %d, want %d\n%v", tt.args, got.code, tt.want, got)
			}
			checkStream(t, "stderr", got.stderr, "")
			doc := decodeLookupJSON(t, got.stdout)

			if doc.Name != tt.wantDoc.Name {
				t.Errorf("name = %q, want %q", doc.Name, tt.wantDoc.Name)
			}
			if doc.Type != tt.wantDoc.Type {
				t.Errorf("type = %q, want %q", doc.Type, tt.wantDoc.Type)
			}
			if doc.Rcode != tt.wantDoc.Rcode {
				t.Errorf("rcode = %q, want %q", doc.Rcode, tt.wantDoc.Rcode)
			}
			if doc.Security != tt.wantDoc.Security {
				t.Errorf("security = %q, want %q", doc.Security, tt.wantDoc.Security)
			}
			if !slices.Equal(doc.Answer, tt.wantDoc.Answer) {
				t.Errorf("answer = %q, want %q", doc.Answer, tt.wantDoc.Answer)
			}
			switch {
			case tt.wantReason == "" && doc.Reason != "":
				t.Errorf("reason = %q, want none", doc.Reason)
			case !strings.Contains(doc.Reason, tt.wantReason):
				t.Errorf("reason = %q, want it to contain %q", doc.Reason, tt.wantReason)
			}
			if len(doc.Chain) == 0 {
				t.Fatalf("chain is empty")
			}
			for i, st := range doc.Chain {
				if st.Check == "" || st.Security == "" {
					t.Errorf("chain step %d = %+v, want a check and a security state", i+1, st)
				}
			}
		})
	}

	t.Run("secure chain", func(t *testing.T) {
		t.Parallel()
		got := invoke(t, normal.args("--json", "www.example.test", "A")...)
		doc := decodeLookupJSON(t, got.stdout)
		checkSecureChain(t, doc.Chain, []string{".", "test.", "example.test."}, "www.example.test.", "A")
	})

	t.Run("bogus chain", func(t *testing.T) {
		t.Parallel()
		got := invoke(t, normal.args("--json", "www.expired.test", "A")...)
		doc := decodeLookupJSON(t, got.stdout)
		if len(doc.Chain) == 0 {
			t.Fatal("chain is empty")
		}
		last := doc.Chain[len(doc.Chain)-1]
		if last.Security != "bogus" || last.Zone != "expired.test." {
			t.Errorf("last chain step = %+v, want bogus in zone expired.test.", last)
		}
	})
}

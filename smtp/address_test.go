package smtp

import "testing"

func TestParseAddress(t *testing.T) {
	tests := []struct {
		in   string
		want string
		ok   bool
	}{
		{"b@example.test", "b@example.test", true},
		{"<b@example.test>", "b@example.test", true},
		{`"a b"@example.test`, `"a b"@example.test`, true},
		{`"a@b"@example.test`, `"a@b"@example.test`, true},
		{"b@[192.0.2.1]", "b@[192.0.2.1]", true},
		{"b@[IPv6:2001:db8::1]", "b@[IPv6:2001:db8::1]", true},
		{"jos\u00e9@example.test", "jos\u00e9@example.test", true},
		{"a@b@c", "", false},
		{"b@example.test.", "", false},
		{"b@", "", false},
		{"@example.test", "", false},
		{"no-at-sign", "", false},
		{"a b@example.test", "", false},
		{".a@example.test", "", false},
		{"a..b@example.test", "", false},
		{"<b@example.test", "", false},
		{"b@[2001:db8::1]", "", false},
		{"b@bad..domain", "", false},
		{"a\x01@example.test", "", false},
	}
	for _, tt := range tests {
		got, err := ParseAddress(tt.in)
		if (err == nil) != tt.ok {
			t.Errorf("ParseAddress(%q) error = %v, want ok=%v", tt.in, err, tt.ok)
			continue
		}
		if tt.ok && got.String() != tt.want {
			t.Errorf("ParseAddress(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

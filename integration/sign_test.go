package integration

import (
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// Bit sizes of the RSA keys. The other algorithms have a fixed size.
const (
	rsaKSKBits = 2048
	rsaZSKBits = 1024
)

// signatureWindow returns the inception and expiration times for a zone
// signed at now. Normal zones get an inception two days back, so that
// clocks that disagree a little still accept the signatures.
func signatureWindow(f fault, now time.Time) (inception, expiration time.Time) {
	const day = 24 * time.Hour
	switch f {
	case expired:
		return now.Add(-30 * day), now.Add(-day)
	case notYetValid:
		return now.Add(day), now.Add(30 * day)
	}
	return now.Add(-2 * day), now.Add(30 * day)
}

// generateKey makes a key pair for zone in dir with the tool set of s and
// returns the key's base name (Kzone.+alg+tag), to which .key and .private
// are appended.
func generateKey(s signer, dir, zone string, alg uint8, ksk bool) (string, error) {
	name, ok := algorithmNames[alg]
	if !ok {
		return "", fmt.Errorf("no key generator name for algorithm %d", alg)
	}
	var args []string
	switch s {
	case bindSigner:
		args = []string{"-q", "-K", dir, "-a", name}
		if ksk {
			args = append(args, "-f", "KSK")
		}
	default:
		args = []string{"-a", name}
		if ksk {
			args = append(args, "-k")
		}
	}
	if alg == 8 || alg == 10 {
		bits := rsaZSKBits
		if ksk {
			bits = rsaKSKBits
		}
		args = append(args, "-b", strconv.Itoa(bits))
	}
	args = append(args, zone)

	program := "ldns-keygen"
	if s == bindSigner {
		program = "dnssec-keygen"
	}
	out, err := runTool(dir, program, args...)
	if err != nil {
		return "", err
	}
	base := strings.TrimSpace(out)
	if !strings.HasPrefix(base, "K") || strings.ContainsAny(base, "/\n") {
		return "", fmt.Errorf("%s printed %q, want a key base name", program, out)
	}
	return filepath.Join(dir, base), nil
}

// dsRecord returns the SHA-256 DS record of the key at base, computed by
// the tool set of s, in zone-file form.
func dsRecord(s signer, base string) (string, error) {
	var out string
	var err error
	if s == bindSigner {
		out, err = runTool(filepath.Dir(base), "dnssec-dsfromkey", "-2", base+".key")
	} else {
		out, err = runTool(filepath.Dir(base), "ldns-key2ds", "-n", "-2", base+".key")
	}
	if err != nil {
		return "", err
	}
	ds := strings.TrimSpace(out)
	rr, err := dns.NewRR(ds)
	if err != nil {
		return "", fmt.Errorf("DS of %s: %w", base, err)
	}
	if _, ok := rr.(*dns.DS); !ok {
		return "", fmt.Errorf("DS of %s is %q, not a DS record", base, ds)
	}
	return ds, nil
}

// signZone signs the zone file src of spec with the keys ksk and zsk into
// dst.
func signZone(spec zoneSpec, src, dst, ksk, zsk string, now time.Time) error {
	inception, expiration := signatureWindow(spec.fault, now)
	var err error
	if spec.signer == bindSigner {
		err = bindSign(spec, src, dst, ksk, zsk, inception, expiration)
	} else {
		err = ldnsSign(spec, src, dst, ksk, zsk, inception, expiration)
	}
	if err != nil {
		return err
	}
	if spec.fault == corruptSig {
		return corruptSignature(dst, "www."+spec.name, dns.TypeA)
	}
	return nil
}

func ldnsSign(spec zoneSpec, src, dst, ksk, zsk string, inception, expiration time.Time) error {
	args := []string{
		"-o", spec.name,
		"-i", strconv.FormatInt(inception.Unix(), 10),
		"-e", strconv.FormatInt(expiration.Unix(), 10),
		"-f", dst,
	}
	if spec.denial != nsec {
		args = append(args, "-n", "-a", "1", "-t", strconv.Itoa(spec.iterations))
		if spec.denial != nsec3 {
			args = append(args, "-s", nsec3SaltHex)
		}
		if spec.denial == nsec3OptOut {
			args = append(args, "-p")
		}
	}
	args = append(args, src, ksk, zsk)
	_, err := runTool(filepath.Dir(src), "ldns-signzone", args...)
	return err
}

func bindSign(spec zoneSpec, src, dst, ksk, zsk string, inception, expiration time.Time) error {
	const bindTime = "20060102150405"
	args := []string{
		"-q",
		"-o", spec.name,
		"-s", inception.UTC().Format(bindTime),
		"-e", expiration.UTC().Format(bindTime),
		"-f", dst,
		// One record a line, with absolute names, as ldns-signzone writes.
		"-O", "full",
	}
	if spec.fault == expired || spec.fault == notYetValid {
		// The check after signing rejects signatures outside their
		// validity window, which is the point of these zones.
		args = append(args, "-P")
	}
	if spec.denial != nsec {
		salt := "-"
		if spec.denial != nsec3 {
			salt = nsec3SaltHex
		}
		args = append(args, "-3", salt, "-H", strconv.Itoa(spec.iterations))
		if spec.denial == nsec3OptOut {
			args = append(args, "-A")
		}
	}
	args = append(args, src, ksk, zsk)
	_, err := runTool(filepath.Dir(src), "dnssec-signzone", args...)
	return err
}

// corruptSignature changes one byte in the middle of the signature of the
// RRSIG that covers owner and covered in the signed zone file path. The
// record keeps its form, so servers load it and only validation fails.
func corruptSignature(path, owner string, covered uint16) error {
	text, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	lines := strings.Split(string(text), "\n")
	found := false
	for i, line := range lines {
		rr, err := dns.NewRR(line)
		if err != nil || rr == nil {
			continue
		}
		sig, ok := rr.(*dns.RRSIG)
		if !ok || sig.TypeCovered != covered || !strings.EqualFold(sig.Hdr.Name, owner) {
			continue
		}
		raw, err := base64.StdEncoding.DecodeString(sig.Signature)
		if err != nil {
			return fmt.Errorf("signature of %s in %s: %w", owner, path, err)
		}
		raw[len(raw)/2] ^= 0xff
		sig.Signature = base64.StdEncoding.EncodeToString(raw)
		lines[i] = sig.String()
		found = true
	}
	if !found {
		return fmt.Errorf("no RRSIG over %s %s in %s", owner, dns.TypeToString[covered], path)
	}
	return os.WriteFile(path, []byte(strings.Join(lines, "\n")), 0o644)
}

package dane

import (
	"crypto/tls"
	"strings"
)

// TLSConfig returns a client configuration for crypto/tls that
// authenticates the server with v instead of WebPKI. It sends
// v.BaseDomain as the SNI name (RFC 7672 §8.1), sets InsecureSkipVerify
// only so that crypto/tls skips its own WebPKI check, and makes
// VerifyConnection call v.Verify on the certificates the server sent, for
// full handshakes and resumptions alike. A failed check aborts the
// handshake with Verify's error, which errors.As turns back into a
// *MismatchError. When the check passes and matched is not nil, matched
// receives the result before the handshake completes.
//
// Use it only for a set whose Status is UsableRecords: with
// NoUsableRecords, TLS is mandatory but there is nothing to authenticate
// against, so every handshake would fail with ErrNoUsableRecords. The
// caller may change other fields of the returned configuration, such as
// MinVersion, but not the three above.
func (v *Verifier) TLSConfig(matched func(*Match)) *tls.Config {
	return &tls.Config{
		ServerName:         strings.TrimSuffix(v.BaseDomain, "."),
		InsecureSkipVerify: true,
		VerifyConnection: func(cs tls.ConnectionState) error {
			m, err := v.Verify(cs.PeerCertificates)
			if err != nil {
				return err
			}
			if matched != nil {
				matched(m)
			}
			return nil
		},
	}
}

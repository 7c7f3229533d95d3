package main

import (
	"errors"
	"fmt"
)

// Exit codes, from sysexits(3) except exitCheckFailed.
const (
	exitOK = 0
	// exitCheckFailed reports a check that ran and found a fault, such as a
	// chain that `tlsa --verify` rejects; sysexits(3) has no code for it.
	exitCheckFailed = 1
	// exitNoReceiver: check-domain finds no host that can receive mail as
	// the domain publishes it.
	exitNoReceiver = 2
	// exitIncomplete: check-domain could not complete the check.
	exitIncomplete  = 3
	exitUsage       = 64 // EX_USAGE: the command was used incorrectly
	exitDataErr     = 65 // EX_DATAERR: the input data was incorrect (bogus DNS data)
	exitNoUser      = 67 // EX_NOUSER: the addressee is unknown (5xx to RCPT)
	exitNoHost      = 68 // EX_NOHOST: the host is unknown (NXDOMAIN, null MX)
	exitUnavailable = 69 // EX_UNAVAILABLE: another permanent refusal
	exitTempFail    = 75 // EX_TEMPFAIL: a temporary failure; retrying may succeed
	exitConfig      = 78 // EX_CONFIG: a configuration error, such as a bad trust anchor file
	exitSoftware    = 70 // EX_SOFTWARE: an internal error
)

// exitError carries the exit code a failure should end the command with.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }

func (e *exitError) Unwrap() error { return e.err }

func withCode(code int, err error) error {
	return &exitError{code: code, err: err}
}

func usageErrorf(format string, args ...any) error {
	return withCode(exitUsage, fmt.Errorf(format, args...))
}

// exitCode returns the exit code for an error that ended a command.
func exitCode(err error) int {
	var e *exitError
	if errors.As(err, &e) {
		return e.code
	}
	return exitSoftware
}

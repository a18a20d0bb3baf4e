//go:build !linux

package main

import "io"

// promptPassword cannot turn the echo off here; the password must come from
// --password-stdin or DAVENPORT_REMOTE_PASSWORD.
func promptPassword(stdin io.Reader, stderr io.Writer, prompt string) (string, error) {
	return "", nil
}

package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

// promptPassword asks for a password on the terminal with echo off. When
// standard input is not a terminal there is no one to ask: "" (no
// credentials).
func promptPassword(stdin io.Reader, stderr io.Writer, prompt string) (string, error) {
	f, ok := stdin.(*os.File)
	if !ok {
		return "", nil
	}
	fd := int(f.Fd())
	old, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return "", nil // not a terminal
	}
	noEcho := *old
	noEcho.Lflag &^= unix.ECHO
	noEcho.Lflag |= unix.ICANON | unix.ISIG
	if err := unix.IoctlSetTermios(fd, unix.TCSETS, &noEcho); err != nil {
		return "", fmt.Errorf("turn the terminal's echo off: %w", err)
	}
	defer unix.IoctlSetTermios(fd, unix.TCSETS, old)
	fmt.Fprint(stderr, prompt)
	line, err := bufio.NewReader(f).ReadString('\n')
	fmt.Fprintln(stderr)
	if err != nil && err != io.EOF {
		return "", err
	}
	return strings.TrimRight(line, "\r\n"), nil
}

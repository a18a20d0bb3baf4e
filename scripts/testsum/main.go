// Command testsum reads `go test -json` on standard input, prints what a
// person needs from it (each package's result line, and the whole output of
// every failed test), and counts the tests. scripts/test.sh uses it so that
// the suite ends with one line "N passed, M failed" over every package and
// interop check.
//
//	go test -json ./... | go run ./scripts/testsum -counts FILE
//
// Every test and subtest that passed or failed counts once; skipped ones are
// counted apart. A package that failed without a failing test (a build
// error, a panic in TestMain, a timeout) counts as one failure. FILE gets
// "passed failed skipped" for the caller to add its own checks to. The exit
// status is 1 when anything failed.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// event is one line of `go test -json` (cmd/test2json).
type event struct {
	Action  string
	Package string
	Test    string
	Output  string
	Elapsed float64
}

type counts struct{ passed, failed, skipped int }

// summary follows the event stream: it keeps each running test's output
// until the test ends, and prints it only when the test failed.
type summary struct {
	out       io.Writer
	n         counts
	output    map[string]*strings.Builder // package + "\x00" + test → output so far
	failedIn  map[string]bool             // packages with a failed test
	buildFail map[string]bool
}

func newSummary(out io.Writer) *summary {
	return &summary{
		out:       out,
		output:    map[string]*strings.Builder{},
		failedIn:  map[string]bool{},
		buildFail: map[string]bool{},
	}
}

func (s *summary) add(e event) {
	key := e.Package + "\x00" + e.Test
	switch e.Action {
	case "output", "build-output":
		b := s.output[key]
		if b == nil {
			b = &strings.Builder{}
			s.output[key] = b
		}
		b.WriteString(e.Output)
	case "build-fail":
		s.buildFail[e.Package] = true
	case "pass", "fail", "skip":
		s.end(e, key)
	}
}

func (s *summary) end(e event, key string) {
	text := ""
	if b := s.output[key]; b != nil {
		text = b.String()
		delete(s.output, key)
	}
	if e.Test != "" {
		switch e.Action {
		case "pass":
			s.n.passed++
		case "skip":
			s.n.skipped++
		case "fail":
			s.n.failed++
			s.failedIn[e.Package] = true
			fmt.Fprintf(s.out, "--- FAIL: %s %s\n%s", e.Package, e.Test, text)
		}
		return
	}
	// The package's own end: its output is the "ok"/"FAIL" line and, for a
	// failure outside any test, what explains it.
	switch e.Action {
	case "pass":
		fmt.Fprintf(s.out, "ok    %s %.1fs\n", e.Package, e.Elapsed)
	case "skip":
		fmt.Fprintf(s.out, "-     %s (no tests)\n", e.Package)
	case "fail":
		if !s.failedIn[e.Package] {
			s.n.failed++ // a build error, a panic outside a test, a timeout
			fmt.Fprintf(s.out, "--- FAIL: %s (no test failed: build error, panic or timeout)\n%s", e.Package, text)
		}
		fmt.Fprintf(s.out, "FAIL  %s %.1fs\n", e.Package, e.Elapsed)
	}
}

// finish reports output left over: build errors print under "build-output"
// for an import path without a test binary.
func (s *summary) finish() {
	var keys []string
	for k := range s.output {
		pkg, test, _ := strings.Cut(k, "\x00")
		if test == "" && s.buildFail[pkg] {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprint(s.out, s.output[k].String())
	}
}

func main() {
	countsFile := flag.String("counts", "", "write \"passed failed skipped\" to this file")
	flag.Parse()

	s := newSummary(os.Stdout)
	sc := bufio.NewScanner(os.Stdin)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		line := sc.Bytes()
		var e event
		if len(line) == 0 || line[0] != '{' || json.Unmarshal(line, &e) != nil {
			// Not an event: go test's own messages (a build error of a
			// package with no tests), passed through.
			fmt.Fprintf(os.Stdout, "%s\n", line)
			continue
		}
		s.add(e)
	}
	if err := sc.Err(); err != nil {
		fmt.Fprintln(os.Stderr, "testsum: reading go test output:", err)
		s.n.failed++
	}
	s.finish()
	if *countsFile != "" {
		if err := os.WriteFile(*countsFile, fmt.Appendf(nil, "%d %d %d\n", s.n.passed, s.n.failed, s.n.skipped), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "testsum:", err)
			os.Exit(1)
		}
	}
	fmt.Printf("go test: %d passed, %d failed, %d skipped\n", s.n.passed, s.n.failed, s.n.skipped)
	if s.n.failed > 0 {
		os.Exit(1)
	}
}

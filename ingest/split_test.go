package ingest

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
)

func TestSplitParts(t *testing.T) {
	ics := "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:x\nBEGIN:VTIMEZONE\nTZID:Zone/A\nEND:VTIMEZONE\n" +
		"BEGIN:VEVENT\nUI\n D:folded-uid\nDTSTART;VALUE=DATE-TIME;TZID=\"Zone/A\":20260101T100000\n" +
		"BEGIN:VALARM\nUID:alarm-uid-is-not-the-event's\nEND:VALARM\nEND:VEVENT\nEND:VCALENDAR\n"
	var got []string
	err := split(strings.NewReader(ics), "VCALENDAR", func(p part) error {
		got = append(got, fmt.Sprintf("%d %s uid=%s tz=%s refs=%v %q", p.typ, p.name, p.uid, p.tzid, p.tzrefs, ics[p.off:p.off+p.n]))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		`0 VERSION uid= tz= refs=[] "VERSION:2.0\n"`,
		`0 PRODID uid= tz= refs=[] "PRODID:x\n"`,
		`1 VTIMEZONE uid= tz=Zone/A refs=[] "BEGIN:VTIMEZONE\nTZID:Zone/A\nEND:VTIMEZONE\n"`,
		`2 VEVENT uid=folded-uid tz= refs=[Zone/A] "BEGIN:VEVENT\nUI\n D:folded-uid\nDTSTART;VALUE=DATE-TIME;TZID=\"Zone/A\":20260101T100000\nBEGIN:VALARM\nUID:alarm-uid-is-not-the-event's\nEND:VALARM\nEND:VEVENT\n"`,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("parts:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestSplitRefuses(t *testing.T) {
	for _, tc := range []struct {
		name, in, wrapper string
		want              error
	}{
		{"pdf", "%PDF-1.4\n", "VCALENDAR", errNotCalendarData},
		{"empty", "", "VCALENDAR", errNotCalendarData},
		{"vcard as calendar", "BEGIN:VCARD\r\nEND:VCARD\r\n", "VCALENDAR", errNotCalendarData},
		{"calendar as vcard", "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", "VCARD", errNotCalendarData},
		{"truncated", "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:x\r\n", "VCALENDAR", errTruncated},
		{"text between cards", "BEGIN:VCARD\r\nEND:VCARD\r\nhello\r\n", "VCARD", errNotCalendarData},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := split(strings.NewReader(tc.in), tc.wrapper, func(part) error { return nil })
			if !errors.Is(err, tc.want) {
				t.Errorf("split = %v, want %v", err, tc.want)
			}
		})
	}
}

// TestGroupUnits: components with one UID become one item wherever they
// are in the file, with the zones they name; a component without UID is an
// item of its own; METHOD is not carried into items.
func TestGroupUnits(t *testing.T) {
	ics := "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nMETHOD:PUBLISH\r\nPRODID:p\r\n" +
		"BEGIN:VTIMEZONE\r\nTZID:A\r\nEND:VTIMEZONE\r\nBEGIN:VTIMEZONE\r\nTZID:B\r\nEND:VTIMEZONE\r\n" +
		"BEGIN:VEVENT\r\nUID:1\r\nDTSTART;TZID=A:20260101T000000\r\nEND:VEVENT\r\n" +
		"BEGIN:VEVENT\r\nUID:2\r\nEND:VEVENT\r\n" +
		"BEGIN:VEVENT\r\nSUMMARY:no uid\r\nEND:VEVENT\r\n" +
		"BEGIN:VEVENT\r\nUID:1\r\nRECURRENCE-ID;TZID=B:20260108T000000\r\nEND:VEVENT\r\n" +
		"END:VCALENDAR\r\n"
	f := tempFile(t, ics)
	us, header, err := groupUnits(f, "VCALENDAR")
	if err != nil {
		t.Fatal(err)
	}
	if string(header) != "VERSION:2.0\r\nPRODID:p\r\n" {
		t.Errorf("header = %q", header)
	}
	if len(us.order) != 3 || us.order[0].uid != "1" || us.order[1].uid != "2" || us.order[2].uid != "" {
		t.Fatalf("units = %+v", us.order)
	}
	if u := us.order[0]; len(u.spans) != 2 || !reflect.DeepEqual(u.tzrefs, []string{"A", "B"}) {
		t.Errorf("unit 1 = %+v, want master and override with zones A and B", u)
	}
}

// TestGroupUnitsBoundedMemory: pass 1 over 100,000 items keeps offsets,
// not bodies: the heap grows by far less than the file.
func TestGroupUnitsBoundedMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("writes a large file")
	}
	path := filepath.Join(t.TempDir(), "big.ics")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:p\r\n")
	pad := strings.Repeat("x", 400)
	for i := range 100_000 {
		fmt.Fprintf(f, "BEGIN:VEVENT\r\nUID:item-%d\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20260101T000000Z\r\nDESCRIPTION:%s\r\nEND:VEVENT\r\n", i, pad)
	}
	f.WriteString("END:VCALENDAR\r\n")
	size, _ := f.Seek(0, 1)
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	us, _, err := groupUnits(f, "VCALENDAR")
	if err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(us)
	if len(us.order) != 100_000 {
		t.Fatalf("%d units, want 100000", len(us.order))
	}
	grown := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	t.Logf("file %d MiB, heap grew %d MiB for the index", size>>20, grown>>20)
	if grown > size/2 {
		t.Errorf("heap grew %d bytes for a %d-byte file: pass 1 holds bodies", grown, size)
	}
	f.Close()
}

func tempFile(t *testing.T, s string) *os.File {
	t.Helper()
	f, err := os.CreateTemp(t.TempDir(), "in")
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(s)
	t.Cleanup(func() { f.Close() })
	return f
}

func TestCRLFNeverWritesIntoItsInput(t *testing.T) {
	body := []byte("A\nB\n")
	got := crlf(body[:2])
	if string(got) != "A\r\n" || string(body) != "A\nB\n" {
		t.Errorf("crlf = %q, input now %q", got, body)
	}
}

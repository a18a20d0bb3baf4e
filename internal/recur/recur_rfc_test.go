package recur

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// TestRFC5545Examples runs recurrence examples of RFC 5545 §3.8.5.3 (all in
// America/New_York) and compares the first instances, in local time.
func TestRFC5545Examples(t *testing.T) {
	ny := mustLoc(t, "America/New_York")
	tests := []struct {
		name, dtstart, rule, exdate string
		want                        []string
	}{
		{"daily for 10 occurrences", "19970902T090000", "FREQ=DAILY;COUNT=10", "",
			[]string{"19970902T0900", "19970903T0900", "19970904T0900", "19970905T0900", "19970906T0900", "19970907T0900", "19970908T0900", "19970909T0900", "19970910T0900", "19970911T0900"}},
		{"monthly on the first Friday", "19970905T090000", "FREQ=MONTHLY;COUNT=10;BYDAY=1FR", "",
			[]string{"19970905T0900", "19971003T0900", "19971107T0900", "19971205T0900", "19980102T0900", "19980206T0900", "19980306T0900", "19980403T0900", "19980501T0900", "19980605T0900"}},
		{"every Friday the 13th", "19970902T090000", "FREQ=MONTHLY;BYDAY=FR;BYMONTHDAY=13", "19970902T090000",
			[]string{"19980213T0900", "19980313T0900", "19981113T0900", "19990813T0900", "20001013T0900"}},
		{"last work day of the month", "19970930T090000", "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1", "",
			[]string{"19970930T0900", "19971031T0900", "19971128T0900", "19971231T0900", "19980130T0900", "19980227T0900", "19980331T0900"}},
		{"Monday of week number 20", "19970512T090000", "FREQ=YEARLY;BYWEEKNO=20;BYDAY=MO", "",
			[]string{"19970512T0900", "19980511T0900", "19990517T0900"}},
		{"every Thursday in March", "19970313T090000", "FREQ=YEARLY;BYMONTH=3;BYDAY=TH", "",
			[]string{"19970313T0900", "19970320T0900", "19970327T0900", "19980305T0900", "19980312T0900", "19980319T0900", "19980326T0900"}},
		{"every 20th Monday of the year", "19970519T090000", "FREQ=YEARLY;BYDAY=20MO", "",
			[]string{"19970519T0900", "19980518T0900", "19990517T0900"}},
		{"WKST=MO", "19970805T090000", "FREQ=WEEKLY;INTERVAL=2;COUNT=4;BYDAY=TU,SU;WKST=MO", "",
			[]string{"19970805T0900", "19970810T0900", "19970819T0900", "19970824T0900"}},
		{"WKST=SU", "19970805T090000", "FREQ=WEEKLY;INTERVAL=2;COUNT=4;BYDAY=TU,SU;WKST=SU", "",
			[]string{"19970805T0900", "19970817T0900", "19970819T0900", "19970831T0900"}},
		{"every 15 minutes for 6 occurrences", "19970902T090000", "FREQ=MINUTELY;INTERVAL=15;COUNT=6", "",
			[]string{"19970902T0900", "19970902T0915", "19970902T0930", "19970902T0945", "19970902T1000", "19970902T1015"}},
		{"invalid dates are ignored", "20070115T090000", "FREQ=MONTHLY;BYMONTHDAY=15,30;COUNT=5", "",
			[]string{"20070115T0900", "20070130T0900", "20070215T0900", "20070315T0900", "20070330T0900"}},
		{"US presidential election day", "19961105T090000", "FREQ=YEARLY;INTERVAL=4;BYMONTH=11;BYDAY=TU;BYMONTHDAY=2,3,4,5,6,7,8", "",
			[]string{"19961105T0900", "20001107T0900", "20041102T0900"}},
		{"third Tuesday, Wednesday or Thursday", "19970904T090000", "FREQ=MONTHLY;COUNT=3;BYDAY=TU,WE,TH;BYSETPOS=3", "",
			[]string{"19970904T0900", "19971007T0900", "19971106T0900"}},
		{"second-to-last weekday of the month", "19970929T090000", "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-2", "",
			[]string{"19970929T0900", "19971030T0900", "19971127T0900", "19971230T0900"}},
		{"every day in January for 3 years, weekly form", "19980101T090000", "FREQ=YEARLY;UNTIL=20000131T140000Z;BYMONTH=1;BYDAY=SU,MO,TU,WE,TH,FR,SA", "",
			[]string{"19980101T0900", "19980102T0900", "19980103T0900"}},
		{"monthly on the second-to-last Monday for 6 months", "19970922T090000", "FREQ=MONTHLY;COUNT=6;BYDAY=-2MO", "",
			[]string{"19970922T0900", "19971020T0900", "19971117T0900", "19971222T0900", "19980119T0900", "19980216T0900"}},
		{"every 3rd year on the 1st, 100th and 200th day", "19970101T090000", "FREQ=YEARLY;INTERVAL=3;COUNT=10;BYYEARDAY=1,100,200", "",
			[]string{"19970101T0900", "19970410T0900", "19970719T0900", "20000101T0900", "20000409T0900", "20000718T0900"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			lines := []string{"BEGIN:VEVENT", "UID:rfc", "DTSTART;TZID=America/New_York:" + tc.dtstart, "RRULE:" + tc.rule}
			if tc.exdate != "" {
				lines = append(lines, "EXDATE;TZID=America/New_York:"+tc.exdate)
			}
			cal, err := decodeCalendar([]byte(calText(append(lines, "END:VEVENT")...)))
			if err != nil {
				t.Fatal(err)
			}
			start := utc(tc.dtstart[:8] + "T000000Z")
			ins, err := Instances(cal, start, start.AddDate(10, 0, 0), nil, DefaultLimits)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, in := range ins {
				if len(got) < len(tc.want) {
					got = append(got, in.Start.In(ny).Format("20060102T1504"))
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("got  %s\nwant %s", strings.Join(got, " "), strings.Join(tc.want, " "))
			}
		})
	}
}

// TestWeekNumberOne: BYWEEKNO=1 takes the days of week one that fall in the
// previous year (RFC 5545 §3.3.10: week one is the first with at least four
// days in the year).
func TestWeekNumberOne(t *testing.T) {
	cal, err := decodeCalendar([]byte(calText("BEGIN:VEVENT", "UID:w", "DTSTART:20120101T120000Z", "RRULE:FREQ=YEARLY;BYWEEKNO=1;BYDAY=MO;COUNT=4", "END:VEVENT")))
	if err != nil {
		t.Fatal(err)
	}
	ins, err := Instances(cal, time.Time{}, time.Time{}, nil, DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, in := range ins {
		got = append(got, in.Start.Format("20060102"))
	}
	// DTSTART, then the Mondays of week one of 2012..2014 (2013's and
	// 2014's start in December).
	want := []string{"20120101", "20120102", "20121231", "20131230"}
	if !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

// TestCivil checks the day-by-day calendar arithmetic against time.Time.
func TestCivil(t *testing.T) {
	d := time.Date(1899, 12, 1, 0, 0, 0, 0, time.UTC)
	c := civilOf(d)
	for i := 0; i < 200*366; i++ {
		if want := civilOf(d); c != want {
			t.Fatalf("%s: got %+v, want %+v", d, c, want)
		}
		if i%97 == 0 {
			skipped := c.nextMonth()
			d = d.AddDate(0, 0, skipped)
			continue
		}
		c.next()
		d = d.AddDate(0, 0, 1)
	}
}

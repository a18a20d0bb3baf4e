#!/usr/bin/python3
"""CalDAV interoperability check: drive a running Davenport with Debian's
python3-caldav (the caldav library 0.11) the way a script or a sync tool
would, and fail loudly on any answer the library or the RFC does not expect.

Environment: DAVENPORT_URL (e.g. http://127.0.0.1:8008), DAVENPORT_USER,
DAVENPORT_PASSWORD, and for the scheduling steps (RFC 6638) a second user,
DAVENPORT_USER2 and DAVENPORT_PASSWORD2, both users with an email address
(skipped, loudly, when DAVENPORT_USER2 is unset). Exits 0 when every step passed, 1 with a message naming
the failed step otherwise.
"""

import datetime
import os
import sys
import traceback
import uuid
from urllib.parse import urljoin, urlparse

import caldav
import requests
from caldav.elements import dav

BASE = os.environ["DAVENPORT_URL"].rstrip("/")
USER = os.environ.get("DAVENPORT_USER", "admin")
PASSWORD = os.environ["DAVENPORT_PASSWORD"]
USER2 = os.environ.get("DAVENPORT_USER2", "")
PASSWORD2 = os.environ.get("DAVENPORT_PASSWORD2", "")
UTC = datetime.timezone.utc
RUN = uuid.uuid4().hex[:8]  # keeps runs against a reused database apart

steps = []


class Failure(Exception):
    pass


def check(cond, message):
    if not cond:
        raise Failure(message)


def step(name):
    def wrap(fn):
        steps.append((name, fn))
        return fn

    return wrap


def uid(name):
    return "%s-%s@interop.davenport.test" % (name, RUN)


def vcal(*components, tz=""):
    return "\r\n".join(
        ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Davenport//interop//EN"]
        + ([tz] if tz else [])
        + list(components)
        + ["END:VCALENDAR", ""]
    )


BERLIN = "\r\n".join([
    "BEGIN:VTIMEZONE", "TZID:Europe/Berlin",
    "BEGIN:DAYLIGHT", "TZOFFSETFROM:+0100", "TZOFFSETTO:+0200", "TZNAME:CEST",
    "DTSTART:19700329T020000", "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU", "END:DAYLIGHT",
    "BEGIN:STANDARD", "TZOFFSETFROM:+0200", "TZOFFSETTO:+0100", "TZNAME:CET",
    "DTSTART:19701025T030000", "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU", "END:STANDARD",
    "END:VTIMEZONE",
])

EVENT = vcal("\r\n".join([
    "BEGIN:VEVENT", "UID:" + uid("single"), "DTSTAMP:20260101T000000Z",
    "DTSTART:20260302T100000Z", "DTEND:20260302T110000Z", "SUMMARY:Interop meeting",
    "END:VEVENT"]))

# Daily 09:00 Berlin from 2 March, ten times; 4 and 5 March removed by one
# EXDATE list, 3 March moved to 15:00 by an override.
RECURRING = vcal("\r\n".join([
    "BEGIN:VEVENT", "UID:" + uid("daily"), "DTSTAMP:20260101T000000Z",
    "DTSTART;TZID=Europe/Berlin:20260302T090000", "DTEND;TZID=Europe/Berlin:20260302T093000",
    "RRULE:FREQ=DAILY;COUNT=10", "EXDATE;TZID=Europe/Berlin:20260304T090000,20260305T090000",
    "SUMMARY:Stand-up", "END:VEVENT",
    "BEGIN:VEVENT", "UID:" + uid("daily"), "DTSTAMP:20260101T000000Z",
    "RECURRENCE-ID;TZID=Europe/Berlin:20260303T090000",
    "DTSTART;TZID=Europe/Berlin:20260303T150000", "DTEND;TZID=Europe/Berlin:20260303T153000",
    "SUMMARY:Stand-up (afternoon)", "END:VEVENT"]), tz=BERLIN)

ALLDAY = vcal("\r\n".join([
    "BEGIN:VEVENT", "UID:" + uid("allday"), "DTSTAMP:20260101T000000Z",
    "DTSTART;VALUE=DATE:20260320", "DTEND;VALUE=DATE:20260321",
    "SUMMARY:Holiday", "TRANSP:TRANSPARENT", "END:VEVENT"]))

TODO = vcal("\r\n".join([
    "BEGIN:VTODO", "UID:" + uid("todo"), "DTSTAMP:20260101T000000Z",
    "DUE:20260310T170000Z", "SUMMARY:Write the report", "STATUS:NEEDS-ACTION",
    "END:VTODO"]))

DONE = vcal("\r\n".join([
    "BEGIN:VTODO", "UID:" + uid("done"), "DTSTAMP:20260101T000000Z",
    "DUE:20260305T170000Z", "COMPLETED:20260304T120000Z", "SUMMARY:Already done",
    "STATUS:COMPLETED", "END:VTODO"]))

state = {}


def dt(day, hour=0):
    return datetime.datetime(2026, 3, day, hour, tzinfo=UTC)


def uids_of(objs):
    out = set()
    for o in objs:
        for line in o.data.splitlines():
            if line.startswith("UID:"):
                out.add(line[4:].strip())
    return out


def client_at(url):
    return caldav.DAVClient(url=url, username=USER, password=PASSWORD)


def well_known_start():
    """Check the well-known redirect the library is about to follow. RFC 6764
    §5 lets the server redirect with 301, 303 or 307, but the requests
    library under python-caldav drops the PROPFIND body after a 301 or 303
    (it keeps it on 307/308 only) and would then read an allprop answer
    without current-user-principal; so only 307 and 308 will do."""
    wk = BASE + "/.well-known/caldav"
    r = requests.request("PROPFIND", wk, allow_redirects=False, auth=(USER, PASSWORD),
                         headers={"Depth": "0"})
    check(r.status_code in (307, 308),
          "PROPFIND %s: %s, want 307 or 308 (a client resends PROPFIND with its body only after those)"
          % (wk, r.status_code))
    location = urljoin(wk, r.headers.get("Location", ""))
    check(urlparse(location).path == "/dav/", "well-known redirects to %r" % location)
    return wk


@step("discover the principal from / and from /.well-known/caldav")
def discover():
    for start in (BASE + "/", well_known_start()):
        principal = client_at(start).principal()
        path = urlparse(str(principal.url)).path
        check(path == "/dav/principals/%s/" % USER, "principal from %s is %s" % (start, principal.url))
        home = urlparse(str(principal.calendar_home_set.url)).path
        check(home == "/dav/calendars/%s/" % USER, "calendar-home-set from %s is %s" % (start, home))
    state["client"] = client_at(BASE + "/")
    state["principal"] = state["client"].principal()
    names = [c.name for c in state["principal"].calendars()]
    check(names, "the account lists no calendars")


@step("MKCALENDAR")
def mkcalendar():
    cal = state["principal"].make_calendar(name="Interop " + RUN, cal_id="interop-" + RUN)
    state["cal"] = cal
    found = [c for c in state["principal"].calendars() if str(c.url).rstrip("/").endswith("interop-" + RUN)]
    check(len(found) == 1, "the new calendar is not listed by the home")
    check(found[0].get_display_name() == "Interop " + RUN,
          "displayname %r after MKCALENDAR" % found[0].get_display_name())
    comps = set(found[0].get_supported_components())
    check({"VEVENT", "VTODO"} <= comps, "supported components %s" % comps)


@step("save an event, a recurring event with an override and EXDATEs, an all-day event and tasks")
def save():
    cal = state["cal"]
    state["event"] = cal.save_event(EVENT)
    # The recurring event goes up as raw bytes (the library re-serializes
    # what save_event gets), so that GET can be checked byte for byte.
    url = str(cal.url).rstrip("/") + "/daily-" + RUN + ".ics"
    resp = state["client"].put(url, RECURRING, {"Content-Type": "text/calendar; charset=utf-8", "If-None-Match": "*"})
    check(resp.status == 201, "PUT of the recurring event: %s, want 201" % resp.status)
    check(resp.headers.get("ETag", "").startswith('"'), "PUT answered without a strong ETag")
    state["daily"] = cal.event_by_url(url)
    state["allday"] = cal.save_event(ALLDAY)
    state["todo"] = cal.save_todo(TODO)
    state["done"] = cal.save_todo(DONE)
    for name in ("event", "daily", "allday", "todo", "done"):
        obj = state[name]
        resp = state["client"].request(str(obj.url))
        check(resp.status == 200, "GET %s: %s" % (name, resp.status))
    # The stored bytes come back exactly (read with requests: the library
    # turns CR LF into LF in what it returns).
    r = requests.get(str(state["daily"].url), auth=(USER, PASSWORD))
    check(r.status_code == 200 and r.content == RECURRING.encode("utf-8"),
          "GET of the recurring event changed its bytes:\n%r" % r.content)


@step("search by time range without expand")
def search_range():
    found = state["cal"].search(start=dt(3), end=dt(6), event=True, expand=False)
    got = uids_of(found)
    check(got == {uid("daily")}, "events 3-6 March: %s" % got)
    found = state["cal"].search(start=dt(19), end=dt(22), event=True, expand=False)
    check(uids_of(found) == {uid("allday")}, "events 19-22 March: %s" % uids_of(found))
    found = state["cal"].search(start=dt(4), end=dt(6), event=True, expand=False)
    check(not found, "4-6 March holds only EXDATEd instances, found %s" % uids_of(found))


@step("search by time range with expand")
def search_expand():
    found = state["cal"].search(start=dt(2), end=dt(7), event=True, expand=True)
    starts = []
    for o in found:
        for line in o.data.splitlines():
            if line.startswith("DTSTART"):
                starts.append(line.split(":", 1)[1].strip())
    want = ["20260302T080000Z", "20260302T100000Z", "20260303T140000Z", "20260306T080000Z"]
    check(sorted(starts) == want, "expanded instances 2-7 March: %s, want %s" % (sorted(starts), want))
    for o in found:
        check("RRULE" not in o.data and "EXDATE" not in o.data, "an expanded instance keeps its rule:\n" + o.data)


@step("todo search")
def todo_search():
    pending = state["cal"].todos()
    check(uids_of(pending) == {uid("todo")}, "pending tasks: %s" % uids_of(pending))
    everything = state["cal"].todos(include_completed=True)
    check(uids_of(everything) == {uid("todo"), uid("done")}, "all tasks: %s" % uids_of(everything))
    ranged = state["cal"].search(todo=True, include_completed=True, start=dt(9), end=dt(11))
    check(uids_of(ranged) == {uid("todo")}, "tasks due 9-11 March: %s" % uids_of(ranged))


@step("fetch by UID")
def by_uid():
    ev = state["cal"].event_by_uid(uid("daily"))
    check(uid("daily") in ev.data and "RECURRENCE-ID" in ev.data, "event_by_uid returned:\n" + ev.data)
    td = state["cal"].todo_by_uid(uid("todo"))
    check("Write the report" in td.data, "todo_by_uid returned:\n" + td.data)
    try:
        state["cal"].event_by_uid(uid("nonexistent"))
    except caldav.lib.error.NotFoundError:
        pass
    else:
        raise Failure("event_by_uid of an unknown UID found something")


@step("multiget")
def multiget():
    urls = [state[n].url for n in ("event", "allday", "todo")]
    got = state["cal"].calendar_multiget(urls)
    check(uids_of(got) == {uid("single"), uid("allday"), uid("todo")}, "multiget: %s" % uids_of(got))


def etag_of(obj):
    return obj.get_property(dav.GetEtag())


@step("edit with ETag")
def edit():
    client, ev = state["client"], state["event"]
    etag = etag_of(ev)
    check(etag and etag.startswith('"'), "getetag %r" % etag)
    resp = client.request(str(ev.url))
    check(resp.headers.get("ETag") == etag, "GET ETag %r, PROPFIND %r" % (resp.headers.get("ETag"), etag))
    changed = EVENT.replace("SUMMARY:Interop meeting", "SUMMARY:Interop meeting (moved)")
    resp = client.put(str(ev.url), changed, {"Content-Type": "text/calendar; charset=utf-8", "If-Match": etag})
    check(resp.status == 204, "PUT with the current If-Match: %s" % resp.status)
    new = resp.headers.get("ETag")
    check(new and new != etag, "ETag after the edit %r (before %r)" % (new, etag))
    resp = client.put(str(ev.url), EVENT, {"Content-Type": "text/calendar; charset=utf-8", "If-Match": etag})
    check(resp.status == 412, "PUT with a stale If-Match: %s, want 412" % resp.status)
    ev.load()
    check("(moved)" in ev.data, "the stale write won:\n" + ev.data)
    check(etag_of(ev) == new, "getetag %r after the edit, PUT said %r" % (etag_of(ev), new))
    # The library's own save() path too.
    ev.data = ev.data.replace("(moved)", "(moved again)")
    ev.save()
    ev.load()
    check("(moved again)" in ev.data, "save() did not store the change")


@step("delete")
def delete():
    state["allday"].delete()
    resp = state["client"].request(str(state["allday"].url))
    check(resp.status == 404, "GET after delete: %s" % resp.status)
    found = state["cal"].search(start=dt(19), end=dt(22), event=True)
    check(not found, "the deleted event is still found: %s" % uids_of(found))


@step("free-busy")
def freebusy():
    fb = state["cal"].freebusy_request(dt(2), dt(9))
    data = fb.data
    periods = sorted(line.split(":", 1)[1].strip() for line in data.splitlines() if line.startswith("FREEBUSY"))
    want = sorted([
        "20260302T080000Z/20260302T083000Z", "20260302T100000Z/20260302T110000Z",
        "20260303T140000Z/20260303T143000Z", "20260306T080000Z/20260306T083000Z",
        "20260307T080000Z/20260307T083000Z", "20260308T080000Z/20260308T083000Z",
    ])
    check(periods == want, "busy periods %s, want %s" % (periods, want))


# --- scheduling (RFC 6638) between two users, with the library's own API --

def mailto_of(principal):
    addrs = [a for a in principal.calendar_user_address_set() if a.lower().startswith("mailto:")]
    check(addrs, "principal %s has no mailto: address in calendar-user-address-set" % principal.url)
    return addrs[0]


def attendee_partstat(data, addr):
    unfolded = data.replace("\r\n ", "").replace("\n ", "")
    for line in unfolded.splitlines():
        if line.upper().startswith("ATTENDEE") and line.lower().endswith(addr.lower()):
            for param in line.split(":", 1)[0].split(";"):
                if param.upper().startswith("PARTSTAT="):
                    return param.split("=", 1)[1].upper()
            return "NEEDS-ACTION"
    return None


INVITE_START = datetime.datetime(2026, 4, 7, 10, tzinfo=UTC)


@step("scheduling: invite a second user with save_with_invites")
def invite():
    if not USER2:
        print("SKIP  scheduling steps: DAVENPORT_USER2 is not set", file=sys.stderr)
        return
    client2 = caldav.DAVClient(url=BASE + "/", username=USER2, password=PASSWORD2)
    state["principal2"] = client2.principal()
    state["addr1"] = mailto_of(state["principal"])
    state["addr2"] = mailto_of(state["principal2"])
    check(state["principal"].schedule_inbox().url is not None, "no schedule-inbox-URL")
    cal = state["principal"].make_calendar(name="Sched " + RUN, cal_id="sched-" + RUN)
    state["schedcal"] = cal
    ical = vcal("\r\n".join([
        "BEGIN:VEVENT", "UID:" + uid("invite"), "DTSTAMP:20260101T000000Z",
        "DTSTART:20260407T100000Z", "DTEND:20260407T110000Z", "SUMMARY:Interop invitation",
        "END:VEVENT"]))
    state["invite"] = cal.save_with_invites(ical, [state["principal2"].get_vcal_address()])
    state["invite"].load()
    check(attendee_partstat(state["invite"].data, state["addr2"]) == "NEEDS-ACTION",
          "the organizer's copy lists no invited attendee:\n" + state["invite"].data)


@step("scheduling: the invitation is in the attendee's inbox; accept_invite")
def accept():
    if not USER2:
        return
    inbox = state["principal2"].schedule_inbox()
    items = [i for i in inbox.get_items() if uid("invite") in (i.data or "")]
    check(len(items) == 1, "the attendee's inbox holds %d messages for the invitation, want 1" % len(items))
    item = items[0]
    check(item.is_invite_request(), "the inbox item is no REQUEST:\n" + item.data)
    # The copy is in the attendee's default calendar already; the library
    # saves the accepted copy there.
    default = [c for c in state["principal2"].calendars() if str(c.url).rstrip("/").endswith("/personal")]
    check(default, "the attendee has no default calendar")
    copy = default[0].event_by_uid(uid("invite"))
    check(attendee_partstat(copy.data, state["addr2"]) == "NEEDS-ACTION", "the attendee's copy:\n" + copy.data)
    item.accept_invite(calendar=default[0])
    copy = default[0].event_by_uid(uid("invite"))
    check(attendee_partstat(copy.data, state["addr2"]) == "ACCEPTED", "the attendee's copy after accepting:\n" + copy.data)


@step("scheduling: the organizer sees the PARTSTAT and a REPLY")
def organizer_sees():
    if not USER2:
        return
    ev = state["schedcal"].event_by_uid(uid("invite"))
    check(attendee_partstat(ev.data, state["addr2"]) == "ACCEPTED",
          "the organizer's copy after the attendee accepted:\n" + ev.data)
    replies = [i for i in state["principal"].schedule_inbox().get_items()
               if uid("invite") in (i.data or "") and "METHOD:REPLY" in i.data]
    check(len(replies) == 1, "the organizer's inbox holds %d REPLYs, want 1" % len(replies))


@step("scheduling: free/busy request through the outbox")
def freebusy_request():
    if not USER2:
        return
    # The library parses the answer into nothing useful; keep the raw body
    # of its POST to the outbox.
    client = state["principal"].client
    posted = []
    plain_post = client.post

    def post(*args, **kwargs):
        r = plain_post(*args, **kwargs)
        posted.append(r)
        return r

    client.post = post
    try:
        state["principal"].freebusy_request(
            INVITE_START - datetime.timedelta(hours=2), INVITE_START + datetime.timedelta(hours=4),
            [state["principal2"].get_vcal_address()])
    except Exception as e:  # the library's parser may reject a schedule-response
        if not posted:
            raise
        print("note  free/busy: the library's parser said %r; checking the raw answer" % e, file=sys.stderr)
    finally:
        client.post = plain_post
    check(posted and posted[-1].status == 200, "POST to the outbox: %s" % (posted and posted[-1].status))
    text = posted[-1].raw
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    check("schedule-response" in text and "2.0;Success" in text, "free/busy answer:\n" + text)
    check("FREEBUSY" in text and "20260407T100000Z/20260407T110000Z" in text,
          "the attendee's accepted meeting is not busy time:\n" + text)
    state["schedcal"].delete()


@step("delete the calendar")
def delete_calendar():
    state["cal"].delete()
    left = [c for c in state["principal"].calendars() if str(c.url).rstrip("/").endswith("interop-" + RUN)]
    check(not left, "the calendar is still listed after DELETE")


def main():
    failed = 0
    for name, fn in steps:
        try:
            fn()
        except Failure as e:
            print("FAIL  %s: %s" % (name, e), file=sys.stderr)
            failed += 1
            break
        except Exception:
            print("FAIL  %s: unexpected error" % name, file=sys.stderr)
            traceback.print_exc()
            failed += 1
            break
        print("ok    %s" % name, flush=True)
    if failed:
        print("caldav interop: FAILED", file=sys.stderr)
        return 1
    print("caldav interop: all %d steps passed" % len(steps))
    return 0


if __name__ == "__main__":
    sys.exit(main())

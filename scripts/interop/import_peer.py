#!/usr/bin/env python3
"""Seed a CalDAV/CardDAV server with test data, or check that Davenport holds
an exact copy of it (scripts/interop/30-import.sh).

  import_peer.py seed  BASE CAL_HOME CARD_HOME USER PASSWORD BULK
  import_peer.py check BASE CAL_HOME CARD_HOME USER PASSWORD DAVENPORT LOCAL_USER LOCAL_PASSWORD LABEL

Only the standard library: urllib for HTTP, ElementTree for the 207s. The
check prints one "ok    " or "FAIL  " line per collection and property set.
"""
import base64
import sys
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET

D, C, CR, A = "DAV:", "urn:ietf:params:xml:ns:caldav", "urn:ietf:params:xml:ns:carddav", "http://apple.com/ns/ical/"

TZ = ("BEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\nBEGIN:DAYLIGHT\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\n"
      "TZNAME:CEST\r\nDTSTART:19700329T020000\r\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\nEND:DAYLIGHT\r\n"
      "BEGIN:STANDARD\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nTZNAME:CET\r\nDTSTART:19701025T030000\r\n"
      "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n")
CAL_TZ = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//interop//EN\r\n" + TZ + "END:VCALENDAR\r\n"


def cal(body):
    return "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//interop//EN\r\n" + body + "END:VCALENDAR\r\n"


PHOTO = base64.b64encode(bytes(range(256)) * 4).decode()

EVENTS = {
    "weekly.ics": cal(TZ +
                      "BEGIN:VEVENT\r\nUID:weekly@interop\r\nDTSTAMP:20250101T000000Z\r\n"
                      "DTSTART;TZID=Europe/Berlin:20250106T090000\r\nDTEND;TZID=Europe/Berlin:20250106T093000\r\n"
                      "RRULE:FREQ=WEEKLY;BYDAY=MO;COUNT=20\r\nEXDATE;TZID=Europe/Berlin:20250120T090000\r\n"
                      "SUMMARY:Stand-up\r\nEND:VEVENT\r\n"
                      "BEGIN:VEVENT\r\nUID:weekly@interop\r\nDTSTAMP:20250101T000000Z\r\n"
                      "RECURRENCE-ID;TZID=Europe/Berlin:20250113T090000\r\n"
                      "DTSTART;TZID=Europe/Berlin:20250113T100000\r\nDTEND;TZID=Europe/Berlin:20250113T103000\r\n"
                      "SUMMARY:Stand-up (moved)\r\nEND:VEVENT\r\n"),
    "anniversary.ics": cal("BEGIN:VEVENT\r\nUID:anniversary@interop\r\nDTSTAMP:20250101T000000Z\r\n"
                           "DTSTART;VALUE=DATE:20250301\r\nDTEND;VALUE=DATE:20250302\r\nRRULE:FREQ=YEARLY\r\n"
                           "SUMMARY:Company anniversary\r\nEND:VEVENT\r\n"),
    "lunch with bob.ics": cal("BEGIN:VEVENT\r\nUID:lunch@interop\r\nDTSTAMP:20250101T000000Z\r\n"
                              "DTSTART:20250102T120000Z\r\nDURATION:PT1H\r\nSUMMARY:Lunch with Bob\r\n"
                              "LOCATION:Café Ünter den Linden\r\nEND:VEVENT\r\n"),
}
TASKS = {
    "task-1.ics": cal("BEGIN:VTODO\r\nUID:task-1@interop\r\nDTSTAMP:20250101T000000Z\r\nDUE;VALUE=DATE:20250415\r\n"
                      "SUMMARY:File taxes\r\nPRIORITY:1\r\nEND:VTODO\r\n"),
    "task-2.ics": cal("BEGIN:VTODO\r\nUID:task-2@interop\r\nDTSTAMP:20250101T000000Z\r\nSTATUS:COMPLETED\r\n"
                      "COMPLETED:20250110T100000Z\r\nSUMMARY:Renew passport\r\nEND:VTODO\r\n"),
}
CARDS = {
    "carol.vcf": "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:carol@interop\r\nFN:Carol Example\r\nN:Example;Carol;;;\r\n"
                 "EMAIL;TYPE=INTERNET:carol@example.org\r\nBDAY:1980-04-12\r\nPHOTO;ENCODING=b;TYPE=PNG:" + PHOTO + "\r\n"
                 "END:VCARD\r\n",
    "dave.vcf": "BEGIN:VCARD\r\nVERSION:4.0\r\nUID:dave@interop\r\nFN:Dave Example\r\nN:Example;Dave;;;\r\n"
                "BDAY:--0412\r\nANNIVERSARY:20100612\r\nEND:VCARD\r\n",
    "friends-group.vcf": "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:group@interop\r\nFN:Friends\r\nN:Friends;;;;\r\n"
                         "X-ADDRESSBOOKSERVER-KIND:group\r\nX-ADDRESSBOOKSERVER-MEMBER:urn:uuid:carol@interop\r\n"
                         "X-ADDRESSBOOKSERVER-MEMBER:urn:uuid:dave@interop\r\nEND:VCARD\r\n",
}


class Client:
    def __init__(self, base, user, password):
        self.base = base.rstrip("/")
        self.auth = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()

    def req(self, method, path, body=None, headers=None, ok=(200, 201, 204, 207)):
        if isinstance(body, str):
            body = body.encode()
        r = urllib.request.Request(self.base + urllib.parse.quote(path), data=body, method=method)
        r.add_header("Authorization", self.auth)
        for k, v in (headers or {}).items():
            r.add_header(k, v)
        try:
            with urllib.request.urlopen(r, timeout=30) as resp:
                return resp.status, resp.read()
        except urllib.error.HTTPError as e:
            if e.code in ok:
                return e.code, e.read()
            raise SystemExit(f"FAIL  {method} {path}: {e.code} {e.read()[:300]!r}")

    def propfind(self, path, props, depth):
        body = ('<?xml version="1.0" encoding="utf-8"?><d:propfind xmlns:d="DAV:" xmlns:c="%s" xmlns:cr="%s" '
                'xmlns:a="%s"><d:prop>%s</d:prop></d:propfind>' % (C, CR, A, props))
        _, out = self.req("PROPFIND", path, body, {"Depth": str(depth), "Content-Type": "application/xml"})
        return ET.fromstring(out)


def mkcalendar(c, path, name, comps, color=None, desc=None, tz=None):
    props = f"<d:displayname>{name}</d:displayname>"
    props += "<c:supported-calendar-component-set>" + "".join(f'<c:comp name="{x}"/>' for x in comps) + \
             "</c:supported-calendar-component-set>"
    if color:
        props += f"<a:calendar-color>{color}</a:calendar-color>"
    if desc:
        props += f"<c:calendar-description>{desc}</c:calendar-description>"
    if tz:
        props += f"<c:calendar-timezone><![CDATA[{tz}]]></c:calendar-timezone>"
    c.req("MKCALENDAR", path, f'<?xml version="1.0" encoding="utf-8"?><c:mkcalendar xmlns:d="DAV:" xmlns:c="{C}" '
                              f'xmlns:a="{A}"><d:set><d:prop>{props}</d:prop></d:set></c:mkcalendar>',
          {"Content-Type": "application/xml"})


def mkaddressbook(c, path, name, desc):
    c.req("MKCOL", path, f'<?xml version="1.0" encoding="utf-8"?><d:mkcol xmlns:d="DAV:" xmlns:cr="{CR}"><d:set>'
                         f'<d:prop><d:resourcetype><d:collection/><cr:addressbook/></d:resourcetype>'
                         f'<d:displayname>{name}</d:displayname><cr:addressbook-description>{desc}'
                         f'</cr:addressbook-description></d:prop></d:set></d:mkcol>',
          {"Content-Type": "application/xml"})


def put(c, path, body, ctype):
    c.req("PUT", path, body, {"Content-Type": ctype + "; charset=utf-8", "If-None-Match": "*"})


def seed(base, cal_home, card_home, user, password, bulk):
    c = Client(base, user, password)
    mkcalendar(c, cal_home + "work/", "Work", ["VEVENT"], "#FF2968FF", "Office hours", CAL_TZ)
    for n, b in EVENTS.items():
        put(c, cal_home + "work/" + n, b, "text/calendar")
    mkcalendar(c, cal_home + "tasks/", "Tasks", ["VTODO"], "#0000FFFF")
    for n, b in TASKS.items():
        put(c, cal_home + "tasks/" + n, b, "text/calendar")
    mkcalendar(c, cal_home + "bulk/", "Bulk", ["VEVENT"])
    for i in range(int(bulk)):
        put(c, cal_home + f"bulk/e{i:05d}.ics", cal(
            f"BEGIN:VEVENT\r\nUID:bulk-{i}@interop\r\nDTSTAMP:20250101T000000Z\r\n"
            f"DTSTART:2025{1 + i % 12:02d}{1 + i % 28:02d}T100000Z\r\nDURATION:PT1H\r\nSUMMARY:Bulk event {i}\r\n"
            f"DESCRIPTION:{'Agenda and notes. ' * 40}\r\nEND:VEVENT\r\n"), "text/calendar")
    mkaddressbook(c, card_home + "friends/", "Friends", "People I know")
    for n, b in CARDS.items():
        put(c, card_home + "friends/" + n, b, "text/vcard")


def text(el, tag):
    x = el.find(".//" + tag)
    return (x.text or "").strip() if x is not None else ""


def members(c, path):
    root = c.propfind(path, "<d:resourcetype/><d:getetag/>", 1)
    out = []
    for r in root.findall(f"{{{D}}}response"):
        href = urllib.parse.unquote(r.find(f"{{{D}}}href").text)
        if r.find(f".//{{{D}}}resourcetype/{{{D}}}collection") is None:
            out.append(href.rsplit("/", 1)[1])
    return sorted(out)


def props(c, path):
    root = c.propfind(path, "<d:displayname/><a:calendar-color/><c:calendar-description/><cr:addressbook-description/>"
                            "<c:calendar-timezone/><c:supported-calendar-component-set/>", 0)
    comps = sorted(x.get("name") for x in root.iter(f"{{{C}}}comp"))
    return {
        "displayname": text(root, f"{{{D}}}displayname"),
        "color": text(root, f"{{{A}}}calendar-color"),
        "description": text(root, f"{{{C}}}calendar-description") or text(root, f"{{{CR}}}addressbook-description"),
        "timezone": text(root, f"{{{C}}}calendar-timezone").replace("\r", ""),
        "components": comps,
    }


def check(base, cal_home, card_home, user, password, dav, local_user, local_password, label):
    src, dst = Client(base, user, password), Client(dav, local_user, local_password)
    failed = 0
    for home, seg, colls in ((cal_home, "calendars", ["work", "tasks", "bulk"]), (card_home, "addressbooks", ["friends"])):
        for coll in colls:
            sp, dp = home + coll + "/", f"/dav/{seg}/{local_user}/{coll}/"
            want, got = members(src, sp), members(dst, dp)
            if want != got:
                print(f"FAIL  {label}: {seg} {coll}: names {got[:5]}… want {want[:5]}…")
                failed += 1
                continue
            diff = [n for n in want if src.req("GET", sp + n)[1] != dst.req("GET", dp + n)[1]]
            if diff or not want:
                print(f"FAIL  {label}: {seg} {coll}: {len(diff)} of {len(want)} items differ: {diff[:3]}")
                failed += 1
            else:
                print(f"ok    {label}: {seg} {coll}: {len(want)} items byte-identical under the same names")
            sprops, dprops = props(src, sp), props(dst, dp)
            if seg == "addressbooks":
                for k in ("color", "timezone", "components"):
                    sprops.pop(k), dprops.pop(k)
            bad = {k: (dprops[k], v) for k, v in sprops.items() if v and dprops[k] != v}
            if bad:
                print(f"FAIL  {label}: {seg} {coll}: properties differ (got, want): {bad}")
                failed += 1
            else:
                print(f"ok    {label}: {seg} {coll}: properties match: "
                      + ", ".join(k for k, v in sorted(sprops.items()) if v))
    return failed


if __name__ == "__main__":
    if sys.argv[1] == "seed":
        seed(*sys.argv[2:8])
    else:
        sys.exit(1 if check(*sys.argv[2:11]) else 0)

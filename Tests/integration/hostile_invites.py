"""Generates hostile invites: messages built to make a parser hang, eat memory or publish
without bound. Each comes with the words its failure reason must contain (None: a legal
message that must be published).

Run as a script to write them to a directory: python3 hostile_invites.py OUT_DIR
"""

import base64
import sys
from pathlib import Path

# The words of a timeout: a message that is legal but may take longer than the timeout to read
# on a loaded machine is answered either way (published, or this failure), never late.
PUBLISHED_OR_TIMED_OUT = "took longer than"
FREQUENCIES = ["SECONDLY", "MINUTELY", "HOURLY", "DAILY", "WEEKLY", "MONTHLY", "YEARLY"]
CRLF = "\r\n"


def calendar(method: str, body: list[str]) -> str:
    return CRLF.join(["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//cis hostile invites//EN", f"METHOD:{method}",
                      *body, "END:VCALENDAR", ""])


def event(uid: str, extra: list[str] = (), start: str = "DTSTART:20260301T100000Z") -> list[str]:
    return ["BEGIN:VEVENT", f"UID:{uid}", "DTSTAMP:20260101T000000Z", start, "SUMMARY:hostile", *extra, "END:VEVENT"]


def zone_with_frequency(frequency: str, rule_extra: str = "") -> bytes:
    """The invite of issue 9: a VTIMEZONE whose rule repeats every second (or FREQ) since 1970."""
    return calendar("REQUEST", [
        "BEGIN:VTIMEZONE", "TZID:Hostile", "BEGIN:STANDARD", "DTSTART:19700101T000000",
        f"RRULE:FREQ={frequency}{rule_extra}", "TZOFFSETFROM:+0100", "TZOFFSETTO:+0000", "END:STANDARD",
        "END:VTIMEZONE",
        *event(f"zone-{frequency.lower()}@hostile.test", ["DTEND;TZID=Hostile:20260301T110000"],
               start="DTSTART;TZID=Hostile:20260301T100000"),
    ]).encode()


def mime_message(content_type: str, body: str, extra_headers: str = "") -> bytes:
    return (f"From: Mallory <mallory@hostile.test>{CRLF}To: create@invites.test{CRLF}Subject: hostile{CRLF}"
            f"MIME-Version: 1.0{CRLF}{extra_headers}Content-Type: {content_type}{CRLF}{CRLF}{body}").encode()


def deep_mime(depth: int) -> bytes:
    inner = f"Content-Type: text/calendar; method=REQUEST{CRLF}{CRLF}" + calendar("REQUEST", event("deep@hostile.test"))
    for level in reversed(range(depth)):
        inner = (f"Content-Type: multipart/mixed; boundary=\"level{level}\"{CRLF}{CRLF}--level{level}{CRLF}"
                 f"{inner}{CRLF}--level{level}--{CRLF}")
    return ("From: mallory@hostile.test\r\nTo: create@invites.test\r\nSubject: deep\r\nMIME-Version: 1.0\r\n"
            + inner).encode()


def wide_mime(parts: int) -> bytes:
    body = "".join(f"--w{CRLF}Content-Type: text/plain{CRLF}{CRLF}part {i}{CRLF}" for i in range(parts))
    body += f"--w{CRLF}Content-Type: text/calendar; method=REQUEST{CRLF}{CRLF}"
    body += calendar("REQUEST", event("wide@hostile.test")) + f"--w--{CRLF}"
    return mime_message('multipart/mixed; boundary="w"', body)


def many_attendees(count: int) -> bytes:
    attendees = [f"ATTENDEE;CN=Person {i};PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:p{i}@hostile.test"
                 for i in range(count)]
    return calendar("REQUEST", event("attendees@hostile.test", attendees)).encode()


def many_events(count: int) -> bytes:
    body = [line for i in range(count) for line in event(f"publish-{i}@hostile.test")]
    return calendar("PUBLISH", body).encode()


def huge_base64(description_bytes: int) -> bytes:
    """A base64 calendar attachment whose DESCRIPTION is one line of `description_bytes`:
    libical's line reader takes time that grows with the square of a line's length."""
    text = calendar("REQUEST", event("base64@hostile.test", ["DESCRIPTION:" + "x" * description_bytes]))
    encoded = base64.encodebytes(text.encode()).decode().replace("\n", CRLF)
    body = (f"--b{CRLF}Content-Type: text/calendar; method=REQUEST{CRLF}Content-Transfer-Encoding: base64{CRLF}{CRLF}"
            f"{encoded}--b--{CRLF}")
    return mime_message('multipart/mixed; boundary="b"', body)


def many_parameters(lines: int, parameters: int) -> bytes:
    """Properties with many parameters each: slow in libical's parser, within no count limit."""
    extra = ["X-HOSTILE;" + ";".join(f"P{i}=v" for i in range(parameters)) + ":v" for _ in range(lines)]
    return calendar("REQUEST", event("parameters@hostile.test", extra)).encode()


def hostile_invites() -> list[tuple[str, bytes, str | None]]:
    """(name, message, words of the failure reason, or None when the message is legal and must
    be published; PUBLISHED_OR_TIMED_OUT: either)."""
    cases = [(f"zone-{f.lower()}", zone_with_frequency(f), f"FREQ={f}") for f in FREQUENCIES[:5]]
    cases += [
        ("zone-monthly", zone_with_frequency("MONTHLY"), None),
        ("zone-yearly", zone_with_frequency("YEARLY"), None),
        ("zone-yearly-every-minute", zone_with_frequency("YEARLY", ";BYMONTH=1,2,3,4,5,6,7,8,9,10,11,12;BYHOUR="
                                                         + ",".join(map(str, range(24))) + ";BYMINUTE="
                                                         + ",".join(map(str, range(60)))), "offset changes"),
        ("deep-mime", deep_mime(2000), "levels deep"),
        ("wide-mime", wide_mime(20000), "MIME parts"),
        ("attendees-100k", many_attendees(100_000), "attendees"),
        ("publish-10k-events", many_events(10_000), "events"),
        ("base64-huge", huge_base64(12_000_000), PUBLISHED_OR_TIMED_OUT),
        ("parameters", many_parameters(100, 4_000), "took longer than"),
    ]
    return cases


if __name__ == "__main__":
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    for name, message, _ in hostile_invites():
        suffix = ".ics" if message.startswith(b"BEGIN:VCALENDAR") else ".eml"
        (out / (name + suffix)).write_bytes(message)

"""The HTTP side port from the tests: its address from the start-up line, GETs with and
without the token, Prometheus text parsed into samples, and iTIP messages of every route."""

import json
import re
import urllib.error
import urllib.request
from email.message import EmailMessage

from pipeline_support import ORGANIZER, RECIPIENT

HTTP_ON_LOOPBACK = ("--http-listen", "127.0.0.1:0")


def http_port(cis) -> int:
    """The side port's port, from the `status page at http://…/` line."""
    event = cis.wait_for_log(lambda e: str(e.get("message", "")).startswith("status page at "), timeout=30)
    return int(event["ops.http.port"])


def get(port: int, path: str, token: str | None = None, host: str = "127.0.0.1") -> tuple[int, dict, bytes]:
    """(status, headers, body) of GET http://host:port/path; an error status is returned, not raised."""
    request = urllib.request.Request(f"http://{host}:{port}{path}")
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    # No proxy from the environment: every request stays on loopback.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def get_json(port: int, path: str, token: str | None = None):
    status, _, body = get(port, path, token)
    return status, json.loads(body)


SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})? (\S+)$')


def metric_samples(text: str) -> list[tuple[str, dict, float]]:
    """(name, labels, value) of every sample in Prometheus text format."""
    samples = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        match = SAMPLE.match(line)
        assert match, f"not a Prometheus sample line: {line!r}"
        labels = dict(re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"', match.group(3) or ""))
        samples.append((match.group(1), labels, float(match.group(4))))
    return samples


def metric(samples, name: str, **labels) -> float:
    """The sum of the samples of `name` whose labels include `labels` (0 when none)."""
    return sum(value for sample, sample_labels, value in samples
               if sample == name and all(sample_labels.get(k) == v for k, v in labels.items()))


def scrape(port: int):
    status, headers, body = get(port, "/metrics")
    assert status == 200
    assert headers["Content-Type"].startswith("text/plain")
    return metric_samples(body.decode())


def itip(method: str, uid: str, sequence: int = 0, summary: str = "Planning",
         attendee_status: str = "NEEDS-ACTION") -> EmailMessage:
    """An iMIP message with METHOD `method` for event `uid`."""
    message = EmailMessage()
    message["From"] = f"Olivia Organizer <{ORGANIZER}>"
    message["To"] = RECIPIENT
    message["Subject"] = f"{method.title()}: {summary}"
    message["Message-ID"] = f"<{uid}-{method}-{sequence}@example.com>"
    message.set_content(f"{summary}.")
    calendar = "\r\n".join([
        "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//cis operations tests//EN", f"METHOD:{method}",
        "BEGIN:VEVENT", f"UID:{uid}", f"SEQUENCE:{sequence}", "DTSTAMP:20261125T150000Z",
        "DTSTART:20261202T150000Z", "DTEND:20261202T160000Z", f"SUMMARY:{summary}",
        f"ORGANIZER;CN=Olivia Organizer:mailto:{ORGANIZER}",
        f"ATTENDEE;CN=Alex;PARTSTAT={attendee_status};RSVP=TRUE:mailto:alex@example.com",
        "END:VEVENT", "END:VCALENDAR", ""])
    message.add_alternative(calendar, subtype="calendar", params={"method": method})
    return message


def not_an_invite() -> EmailMessage:
    """A message with no calendar in it: the failure route, with its reason in plain words."""
    message = EmailMessage()
    message["From"] = f"Olivia Organizer <{ORGANIZER}>"
    message["To"] = RECIPIENT
    message["Subject"] = "Lunch?"
    message["Message-ID"] = "<lunch@example.com>"
    message.set_content("Shall we have lunch on Friday?")
    return message


NO_CALENDAR_REASON = "The message holds no calendar invitation"

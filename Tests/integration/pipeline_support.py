"""Invites and an SMTP sender shared by the pipeline tests (test_pipeline_*.py)."""

import smtplib
from email.message import EmailMessage

from conftest import queued_id

RECIPIENT = "create@invites.test"
ORGANIZER = "olivia@example.com"


def invite(uid: str, sequence: int = 0, summary: str = "Quarterly planning",
           start: str = "DTSTART;TZID=Europe/Berlin:20261202T150000",
           end: str = "DTEND;TZID=Europe/Berlin:20261202T160000") -> EmailMessage:
    """An iMIP REQUEST as calendar clients send it: text/plain plus text/calendar; method=REQUEST."""
    message = EmailMessage()
    message["From"] = f"Olivia Organizer <{ORGANIZER}>"
    message["To"] = RECIPIENT
    message["Subject"] = f"Invitation: {summary}"
    message["Message-ID"] = f"<{uid}-{sequence}@example.com>"
    message.set_content(f"You are invited to {summary}.")
    calendar = "\r\n".join([
        "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//cis integration tests//EN", "METHOD:REQUEST",
        "BEGIN:VEVENT", f"UID:{uid}", f"SEQUENCE:{sequence}", "DTSTAMP:20261125T150000Z", start, end,
        f"SUMMARY:{summary}", f"ORGANIZER;CN=Olivia Organizer:mailto:{ORGANIZER}",
        "ATTENDEE;CN=Alex;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:alex@example.com",
        "END:VEVENT", "END:VCALENDAR", ""])
    message.add_alternative(calendar, subtype="calendar", params={"method": "REQUEST"})
    return message


def send(port: int, message: EmailMessage) -> str:
    """Sends over SMTP to 127.0.0.1:port; returns the id from `250 2.0.0 Ok: queued as <id>`."""
    with smtplib.SMTP("127.0.0.1", port, local_hostname="client.invites.test", timeout=10) as smtp:
        smtp.ehlo()
        assert smtp.mail(ORGANIZER)[0] == 250
        assert smtp.rcpt(RECIPIENT)[0] == 250
        code, reply = smtp.data(message.as_bytes())
        assert code == 250, reply
    return queued_id(reply.decode())

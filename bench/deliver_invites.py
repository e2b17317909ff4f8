#!/usr/bin/env python3
"""Sends N simple calendar invites over one SMTP session: deliver_invites.py PORT N."""
import smtplib
import sys

TEMPLATE = (
    "From: organizer@example.com\r\nTo: create@localhost\r\nSubject: Invite {i}\r\nMIME-Version: 1.0\r\n"
    "Content-Type: text/calendar; method=REQUEST; charset=UTF-8\r\n\r\n"
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Example//EN\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\n"
    "UID:bench-{i}@example.com\r\nSEQUENCE:0\r\nDTSTAMP:20261125T090000Z\r\n"
    "DTSTART;TZID=Europe/Berlin:20261201T100000\r\nDTEND;TZID=Europe/Berlin:20261201T110000\r\n"
    "SUMMARY:Bench {i}\r\nORGANIZER;CN=Olga:mailto:organizer@example.com\r\n"
    "ATTENDEE;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:alice@example.org\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
)

port, count = int(sys.argv[1]), int(sys.argv[2])
session = smtplib.SMTP("127.0.0.1", port, timeout=60)
for i in range(count):
    session.sendmail("organizer@example.com", ["create@localhost"], TEMPLATE.format(i=i))
session.quit()

"""SNS takes at most 256 KiB: an invite whose event would be larger (a 156 KB agenda: the
description is in the event twice) is published through the real binary with its long fields
trimmed, `truncated: true`, and `bucket`/`key` pointing to the whole message."""

import json
from pathlib import Path

from pipeline_support import RECIPIENT, invite, send
from test_pipeline_embedded import wait_for_lines

SNS_LIMIT = 262_144


def test_a_156_kb_agenda_is_published_truncated_under_256_kib(start_cis, tmp_path: Path):
    cis = start_cis("--recipient", RECIPIENT, "--poll-wait", "1", consumer=True)
    agenda = " ".join(f"Item {n}: review the plan \"{n}\" and/or the budget." for n in range(3_200))
    assert len(agenda.encode()) >= 156_000
    message = invite("agenda@example.com")
    [calendar] = [part for part in message.iter_parts() if part.get_content_type() == "text/calendar"]
    property_line = "DESCRIPTION:" + agenda.replace(",", "\\,")
    # Folded at 74 characters, as RFC 5545 asks.
    folded = "\r\n ".join(property_line[i:i + 74] for i in range(0, len(property_line), 74))
    text = calendar.get_content().replace("SUMMARY:", folded + "\r\nSUMMARY:", 1)
    calendar.set_content(text, subtype="calendar", params={"method": "REQUEST"})
    message_id = send(cis.port, message)

    [line] = wait_for_lines(cis.data_dir, "create", 1, lambda: "\n".join(map(str, cis.lines)))
    assert cis.stop() == 0
    # The message as an SNS subscriber receives it: escaped once more inside the envelope.
    assert len(json.dumps(line["Message"]).encode()) < SNS_LIMIT
    event = json.loads(line["Message"])
    assert event["truncated"] is True
    assert event["key"].endswith(message_id)
    assert event["bucket"]
    assert event["original_uid"] == "agenda@example.com"
    assert agenda.startswith(event["description"][:1000])
    assert 16_384 <= len(event["description"]) < len(agenda)

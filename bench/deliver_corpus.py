#!/usr/bin/env python3
"""Sends N messages cycling through a corpus of real invites over one SMTP session:

    deliver_corpus.py PORT N [CORPUS_DIRECTORY]

The corpus is every `*.eml` file and every message of every `*.mbox` file in the directory
(default `$CIS_SHARED_DIR/corpus/imip`, else /work/shared/corpus/imip), in name order.
Prints how many distinct corpus messages it cycled through."""
import mailbox
import os
import pathlib
import smtplib
import sys


def corpus_messages(directory):
    messages = []
    for path in sorted(directory.iterdir()):
        if path.suffix == ".eml":
            messages.append(path.read_bytes())
        elif path.suffix == ".mbox":
            for message in mailbox.mbox(str(path)):
                messages.append(message.as_bytes())
    return messages


def main():
    port, count = int(sys.argv[1]), int(sys.argv[2])
    default = pathlib.Path(os.environ.get("CIS_SHARED_DIR", "/work/shared")) / "corpus" / "imip"
    directory = pathlib.Path(sys.argv[3]) if len(sys.argv) > 3 else default
    messages = corpus_messages(directory)
    if not messages:
        sys.exit(f"deliver_corpus: no .eml or .mbox messages in {directory}")
    session = smtplib.SMTP("127.0.0.1", port, timeout=120)
    for i in range(count):
        # Every line ends in CRLF on the wire (smtplib converts bare LF).
        session.sendmail("organizer@example.com", ["create@localhost"], messages[i % len(messages)])
    session.quit()
    print(f"{len(messages)} corpus messages from {directory}")


if __name__ == "__main__":
    main()

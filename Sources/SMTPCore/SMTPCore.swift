// SMTPCore: the SMTP grammar and session state machine (pure, no I/O). See ../shared/DESIGN.md.

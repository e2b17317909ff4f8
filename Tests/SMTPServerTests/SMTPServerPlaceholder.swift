// Tests of the SMTPServer target.

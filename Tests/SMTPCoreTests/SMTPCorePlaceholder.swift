// Tests of the SMTPCore target.

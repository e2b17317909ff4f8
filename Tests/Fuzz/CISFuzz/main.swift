// One binary, one fuzz target per name; see docs/fuzzing.md and scripts/fuzz.sh.
FuzzRunner.main(targets: [
    "command-parser": CommandParserTarget.run,
    "session": SessionTarget.run,
    "line-decoder": LineDecoderTarget.run,
    "data-decoder": DataDecoderTarget.run,
    "journal-record": JournalRecordTarget.run,
    "notification": NotificationTarget.run,
    "invite-mime": InviteTargets.runMIME,
    "invite-calendar": InviteTargets.runCalendar,
    "proxy-header": ProxyHeaderTarget.run,
])

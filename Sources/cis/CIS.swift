import ArgumentParser

@main
struct CIS: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cis",
        abstract: "Calendar Invite Server: an SMTP drop box for calendar invitations.",
        version: "0.1.0",
        subcommands: [ServeCommand.self, SMTPCommand.self, ConsumeCommand.self, ParseCommand.self, VerifySenderCommand.self, DLQCommand.self, ParseWorkerCommand.self]
    )
}

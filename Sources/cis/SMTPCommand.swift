import ArgumentParser

/// `cis smtp`: the SMTP intake alone (an intake node in front of a shared queue).
struct SMTPCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "smtp",
        abstract: "Run only the SMTP intake: accept invitations, store them, queue their notifications.",
        discussion: ServeCommand.configuration.discussion)

    @OptionGroup(title: "SMTP intake") var intake: IntakeOptions
    @OptionGroup(title: "Backend") var backend: BackendOptions
    @OptionGroup(title: "Operations (HTTP side port)") var operations: OperationsOptions
    @OptionGroup(title: "Logging") var logging: LoggingOptions

    func run() async throws {
        try await Startup.run(logging: self.logging, shutdownTimeout: self.intake.shutdownTimeout) {
            (settings, logger) async throws(ConfigurationError) in
            let intake = try IntakeSetup(self.intake, backendOptions: self.backend, settings: settings)
            let http = try self.operations.configuration(settings)
            let backends = try await BackendSet.make(self.backend, settings: settings, logger: logger)
            let operations = try OperationsSetup(
                http: http, settings: settings, logger: logger, backends: backends, backendOptions: self.backend,
                runsIntake: true, certificatePath: self.intake.certificatePath(settings))
            let server = intake.makeServer(backends: backends, logger: logger, operations: operations)
            return (server, operations.services() + backends.shutdownServices + [server])
        }
    }
}

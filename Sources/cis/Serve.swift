import ArgumentParser

/// `cis serve`: the whole pipeline in one process. For now that is the SMTP intake.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the whole pipeline in one process: SMTP intake into the backend.",
        discussion: """
            Every option can also be set through the environment variable named in its help; \
            a flag wins over its variable. A bad value stops the program at start with one line \
            naming the option. SIGTERM or SIGINT stop it gracefully: no new connections, a message \
            in flight is finished (within --shutdown-timeout), idle sessions are told 421.
            """)

    @OptionGroup(title: "SMTP intake") var intake: IntakeOptions
    @OptionGroup(title: "Backend") var backend: BackendOptions
    @OptionGroup(title: "Logging") var logging: LoggingOptions

    func run() async throws {
        try await Startup.run(logging: self.logging, shutdownTimeout: self.intake.shutdownTimeout) {
            (settings, logger) throws(ConfigurationError) in
            let intake = try IntakeService(self.intake, backendOptions: self.backend, settings: settings)
            let backends = try BackendSet.make(self.backend, settings: settings, logger: logger)
            let server = intake.makeServer(backends: backends, logger: logger)
            return (server, [server])
        }
    }
}

import ArgumentParser

/// `cis serve`: the whole pipeline in one process: the SMTP intake and the queue consumer.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the whole pipeline in one process: SMTP intake into the backend, and the consumer publishing each invite to its route's topic.",
        discussion: """
            Every option can also be set through the environment variable named in its help; \
            a flag wins over its variable. A bad value stops the program at start with one line \
            naming the option. SIGTERM or SIGINT stop it gracefully: no new connections, a message \
            in flight is finished (within --shutdown-timeout), idle sessions are told 421; then the \
            consumer stops polling and finishes the messages it is processing.
            """)

    @OptionGroup(title: "SMTP intake") var intake: IntakeOptions
    @OptionGroup(title: "Backend") var backend: BackendOptions
    @OptionGroup(title: "Consumer") var consumer: ConsumerOptions
    @OptionGroup(title: "Parsing") var parsing: ParseOptions
    @OptionGroup(title: "Sender policy") var senderPolicy: SenderPolicyOptions
    @OptionGroup(title: "Sender authentication") var senderAuthentication: SenderAuthenticationOptions

    @Flag(
        name: .customLong("consumer"), inversion: .prefixedNo,
        help: ArgumentHelp("Run the consumer too; --no-consumer runs the intake only. Env: CIS_CONSUMER (true/false). Default: on."))
    var runConsumer: Bool?

    @OptionGroup(title: "Operations (HTTP side port)") var operations: OperationsOptions
    @OptionGroup(title: "Logging") var logging: LoggingOptions

    func run() async throws {
        try await Startup.run(logging: self.logging, shutdownTimeout: self.intake.shutdownTimeout) {
            (settings, logger) async throws(ConfigurationError) in
            let intake = try IntakeSetup(self.intake, backendOptions: self.backend, settings: settings)
            let http = try self.operations.configuration(settings)
            let runConsumer = try settings.value(
                self.runConsumer.map { String($0) }, flag: "--consumer", variable: "CIS_CONSUMER", default: true,
                parse: Parse.boolean)
            let consumer = runConsumer ? try ConsumerSetup(
                self.consumer, backendOptions: self.backend, parseOptions: self.parsing,
                senderPolicy: self.senderPolicy, senderAuthentication: self.senderAuthentication, settings: settings) : nil
            let backends = try await BackendSet.make(
                self.backend, settings: settings, logger: logger, maxReceiveCount: try self.consumer.receiveLimit(settings))
            let operations = try OperationsSetup(
                http: http, settings: settings, logger: logger, backends: backends, backendOptions: self.backend,
                runsIntake: true, certificatePath: self.intake.certificatePath(settings),
                topicARNs: consumer?.awsTopics.map { Array($0.values) } ?? [])
            let reloads = ReloadActions()
            let server = intake.makeServer(backends: backends, logger: logger, operations: operations, reloads: reloads)
            guard let consumer else {
                return (
                    server,
                    operations.services() + backends.shutdownServices + [server, await ReloadService(reloads, logger: logger)]
                )
            }
            let consumerService = try consumer.makeService(
                backends: backends, logger: logger, observer: operations.consumerObserver, reloads: reloads)
            // Made last: it takes the reload actions registered so far.
            let reloadService = await ReloadService(reloads, logger: logger)
            // Services stop in reverse order: SIGHUP reloads end, the intake stops taking mail,
            // then the consumer, then the object store checkpoints, and the HTTP side port last.
            return (server, operations.services() + backends.shutdownServices + [consumerService, server, reloadService])
        }
    }
}

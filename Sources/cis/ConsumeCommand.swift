import ArgumentParser
import Backends

/// `cis consume`: the queue consumer alone (more consumers on a shared queue, or an intake
/// node run with `cis smtp`).
struct ConsumeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "consume",
        abstract: "Run only the consumer: receive queued notifications, parse each invite, publish it to its route's topic.",
        discussion: """
            Every option can also be set through the environment variable named in its help; \
            a flag wins over its variable. A bad value stops the program at start with one line \
            naming the option. SIGTERM or SIGINT stop it gracefully: it stops polling and finishes \
            the messages it is processing (within 30 seconds). A message is deleted from the queue \
            only after every publish it needed succeeded.
            """)

    @OptionGroup(title: "Consumer") var consumer: ConsumerOptions
    @OptionGroup(title: "Parsing") var parsing: ParseOptions
    @OptionGroup(title: "Sender policy") var senderPolicy: SenderPolicyOptions
    @OptionGroup(title: "Sender authentication") var senderAuthentication: SenderAuthenticationOptions
    @OptionGroup(title: "Backend") var backend: BackendOptions
    @OptionGroup(title: "Operations (HTTP side port)") var operations: OperationsOptions
    @OptionGroup(title: "Logging") var logging: LoggingOptions

    func run() async throws {
        try await Startup.run(logging: self.logging, shutdownTimeout: { _ in .seconds(30) }) {
            (settings, logger) async throws(ConfigurationError) in
            let consumer = try ConsumerSetup(
                self.consumer, backendOptions: self.backend, parseOptions: self.parsing,
                senderPolicy: self.senderPolicy, senderAuthentication: self.senderAuthentication, settings: settings)
            let http = try self.operations.configuration(settings)
            let backends = try await BackendSet.make(
                self.backend, settings: settings, logger: logger, maxReceiveCount: try self.consumer.receiveLimit(settings),
                objectAccess: .readOnly)
            let operations = try OperationsSetup(
                http: http, settings: settings, logger: logger, backends: backends, backendOptions: self.backend,
                runsIntake: false, certificatePath: nil, topicARNs: consumer.awsTopics.map { Array($0.values) } ?? [])
            let reloads = ReloadActions()
            let service = try consumer.makeService(
                backends: backends, logger: logger, observer: operations.consumerObserver, reloads: reloads)
            return (nil, operations.services() + [service, await ReloadService(reloads, logger: logger)])
        }
    }
}

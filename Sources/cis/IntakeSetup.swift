import Backends
import DropBox
import Logging
import SMTPCore
import SMTPServer

/// The SMTP intake of `cis serve` and `cis smtp`: its options resolved and checked, and the
/// listener delivering into the drop box made from them.
struct IntakeSetup {
    var server: SMTPServerConfiguration
    var dropBox: DropBoxConfiguration

    /// Resolves and checks every intake option (before anything is created on disk).
    init(_ intake: IntakeOptions, backendOptions: BackendOptions, settings: Settings) throws(ConfigurationError) {
        let spoolDirectory = "\(backendOptions.dataDirectory(settings))/spool"
        self.server = try intake.serverConfiguration(settings, spoolDirectory: spoolDirectory)
        self.dropBox = DropBoxConfiguration(hostname: self.server.hostname, keyPrefix: try backendOptions.keyPrefix(settings))
        if try backendOptions.kind(settings) == .aws {
            self.dropBox.envelope = try backendOptions.aws.envelope(settings)
            self.dropBox.awsRegion = AWSOptions.region() ?? self.dropBox.awsRegion
        }
        do {
            try self.dropBox.validate()
        } catch {
            let (source, value) = error.field == .hostname ? ("--hostname", self.dropBox.hostname) : ("--prefix", self.dropBox.keyPrefix)
            throw ConfigurationError(source: source, problem: "'\(value)' \(error.problem)")
        }
    }

    /// - Parameter operations: records each delivery for the status page and hears when the listener runs.
    func makeServer(backends: BackendSet, logger: Logger, operations: OperationsSetup? = nil) -> SMTPServer {
        let dropBox = DropBox(
            objectStore: backends.objectStore, queue: backends.queue, configuration: self.dropBox, logger: logger)
        let sink: any MessageSink = operations?.recording(dropBox) ?? dropBox
        return SMTPServer(
            configuration: self.server, sink: sink, logger: logger,
            onServerRunning: { _ in operations?.smtpListening() })
    }
}

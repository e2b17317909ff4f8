import Backends
import DropBox
import Logging
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

    func makeServer(backends: BackendSet, logger: Logger) -> SMTPServer {
        let dropBox = DropBox(
            objectStore: backends.objectStore, queue: backends.queue, configuration: self.dropBox, logger: logger)
        return SMTPServer(configuration: self.server, sink: dropBox, logger: logger)
    }
}

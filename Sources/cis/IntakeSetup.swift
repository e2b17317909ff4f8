import Backends
import BlockingWork
import DropBox
import Logging
import SMTPCore
import SMTPServer

/// The SMTP intake of `cis serve` and `cis smtp`: its options resolved and checked, and the
/// listener delivering into the drop box made from them.
struct IntakeSetup {
    var server: SMTPServerConfiguration
    var dropBox: DropBoxConfiguration
    /// Loaded again on SIGHUP.
    var tlsFiles: TLSFiles?
    /// Read again on SIGHUP.
    var recipientsFile: String?

    /// Resolves and checks every intake option (before anything is created on disk).
    init(_ intake: IntakeOptions, backendOptions: BackendOptions, settings: Settings) throws(ConfigurationError) {
        let spoolDirectory = "\(backendOptions.dataDirectory(settings))/spool"
        self.server = try intake.serverConfiguration(settings, spoolDirectory: spoolDirectory)
        self.tlsFiles = try intake.tlsFiles(settings)
        self.recipientsFile = intake.recipientsFilePath(settings)?.path
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

    /// - Parameters:
    ///   - operations: records each delivery for the status page and hears when the listener runs.
    ///   - reloads: where the certificate and recipients-file reloads of SIGHUP are registered.
    func makeServer(
        backends: BackendSet, logger: Logger, operations: OperationsSetup? = nil, reloads: ReloadActions? = nil
    ) -> SMTPServer {
        let dropBox = DropBox(
            objectStore: backends.objectStore, queue: backends.queue, configuration: self.dropBox, logger: logger)
        let sink: any MessageSink = operations?.recording(dropBox) ?? dropBox
        let server = SMTPServer(
            configuration: self.server, sink: sink, logger: logger,
            onServerRunning: { _ in operations?.smtpListening() })
        if let tlsFiles = self.tlsFiles {
            reloads?.add("tls") {
                let context = try await BlockingPool.run { try tlsFiles.load() }
                server.replaceTLSContext(context)
                return "\(tlsFiles.certificate)"
            }
        }
        if let recipientsFile = self.recipientsFile {
            reloads?.add("recipients") {
                let recipients = try await BlockingPool.run { try RecipientsFile.read(recipientsFile) }
                server.replaceRecipients(recipients)
                return "\(recipients.count) addresses"
            }
        }
        return server
    }
}

import NIOCore
import NIOSSL
import SMTPServer

/// The certificate chain and key of `--tls-cert` and `--tls-key`: loaded at start, and again
/// on SIGHUP (a renewed certificate is used by the sessions that start after it).
struct TLSFiles: Sendable {
    var certificate: String
    var key: String
    /// Where each came from (the flag or the variable), for the error.
    var certificateSource: String
    var keySource: String
    var closeTimeout: TimeAmount

    func load() throws(ConfigurationError) -> NIOSSLContext {
        do {
            return try SMTPTLS.makeServerContext(
                certificatePath: self.certificate, privateKeyPath: self.key, closeTimeout: self.closeTimeout)
        } catch let error as SMTPTLSError {
            throw ConfigurationError(
                source: error.file == .certificate ? self.certificateSource : self.keySource, problem: error.description)
        } catch {
            throw ConfigurationError(source: self.certificateSource, problem: "\(error)")
        }
    }
}

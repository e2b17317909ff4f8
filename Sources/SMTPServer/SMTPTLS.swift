import Foundation
import NIOCore
import NIOSSL

/// The server side of STARTTLS: TLS 1.2 and newer only.
public enum SMTPTLS {
    /// Loads a PEM certificate chain and private key. Errors name the file and the problem.
    /// - Parameter closeTimeout: closing waits this long at most for the client's close_notify.
    public static func makeServerContext(
        certificatePath: String, privateKeyPath: String,
        closeTimeout: TimeAmount = SMTPServerConfiguration.defaultCloseTimeout
    ) throws -> NIOSSLContext {
        let certificates: [NIOSSLCertificate]
        do {
            try Self.checkReadable(certificatePath)
            certificates = try NIOSSLCertificate.fromPEMFile(certificatePath)
        } catch let error as SMTPTLSError {
            throw error
        } catch {
            throw SMTPTLSError(file: .certificate, path: certificatePath, problem: "not a PEM certificate (\(error))")
        }
        guard !certificates.isEmpty else {
            throw SMTPTLSError(file: .certificate, path: certificatePath, problem: "no certificate in the file")
        }
        let privateKey: NIOSSLPrivateKey
        do {
            try Self.checkReadable(privateKeyPath, file: .privateKey)
            privateKey = try NIOSSLPrivateKey(file: privateKeyPath, format: .pem)
        } catch let error as SMTPTLSError {
            throw error
        } catch {
            throw SMTPTLSError(file: .privateKey, path: privateKeyPath, problem: "not a PEM private key (\(error))")
        }
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: certificates.map { .certificate($0) }, privateKey: .privateKey(privateKey))
        configuration.minimumTLSVersion = .tlsv12
        configuration.shutdownTimeout = closeTimeout
        do {
            return try NIOSSLContext(configuration: configuration)
        } catch {
            throw SMTPTLSError(
                file: .privateKey, path: privateKeyPath, problem: "does not match the certificate (\(error))")
        }
    }

    private static func checkReadable(_ path: String, file: SMTPTLSError.File = .certificate) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw SMTPTLSError(file: file, path: path, problem: "no such file")
        }
        guard !isDirectory.boolValue, FileManager.default.isReadableFile(atPath: path) else {
            throw SMTPTLSError(file: file, path: path, problem: "not a readable file")
        }
    }
}

public struct SMTPTLSError: Error, Sendable, CustomStringConvertible {
    public enum File: Sendable {
        case certificate
        case privateKey
    }

    public var file: File
    public var path: String
    public var problem: String

    public var description: String {
        "\(self.file == .certificate ? "certificate" : "private key") \(self.path): \(self.problem)"
    }
}

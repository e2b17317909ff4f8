import Foundation
import NIOSSL

/// A self-signed certificate for localhost/127.0.0.1, made with openssl at run time into a
/// temporary directory (no private key is ever committed).
struct TestCertificate: Sendable {
    let directory: String
    var certificatePath: String { "\(self.directory)/cert.pem" }
    var privateKeyPath: String { "\(self.directory)/key.pem" }

    static let shared: Result<TestCertificate, any Error> = Result { try TestCertificate.make() }

    static func make() throws -> TestCertificate {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("cis-smtp-tests-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let certificate = TestCertificate(directory: directory)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", certificate.privateKeyPath, "-out", certificate.certificatePath, "-days", "1",
            "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw CertificateError(message: "openssl req failed with status \(process.terminationStatus)")
        }
        return certificate
    }

    struct CertificateError: Error {
        var message: String
    }
}

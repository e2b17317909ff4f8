import AWS
import Foundation
import TestSupport
import Testing

/// Replays AWS's SigV4 test suite (aws-c-auth `tests/aws-signing-test-suite/v4`, copied to
/// `$CIS_SHARED_DIR/vectors/aws-sigv4`): for every case the canonical request, the string to
/// sign, the signature and the Authorization header must match byte for byte. Skipped where the
/// shared data is absent (a fresh clone), except under CI.
@Suite("SigV4 test suite", .sharedData("vectors/aws-sigv4"))
struct SigV4TestSuiteTests {
    static func caseDirectories() throws -> [URL] {
        let root = try SharedTestData.directory("vectors/aws-sigv4")
        return try FileManager.default.contentsOfDirectory(at: root, includingPropertiesForKeys: nil)
            .filter { FileManager.default.fileExists(atPath: $0.appendingPathComponent("context.json").path) }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
    }

    @Test("the suite is present and complete")
    func suiteIsPresent() throws {
        let cases = try Self.caseDirectories()
        #expect(cases.count >= 38, "expected the 38 header-signing cases, found \(cases.count)")
    }

    @Test("every case matches at each stage")
    func everyCase() throws {
        let cases = try Self.caseDirectories()
        #expect(!cases.isEmpty)
        for directory in cases {
            try self.check(directory)
        }
    }

    private func check(_ directory: URL) throws {
        let name = directory.lastPathComponent
        let context = try JSONDecoder().decode(
            VectorContext.self, from: Data(contentsOf: directory.appendingPathComponent("context.json")))
        let parsed = try VectorRequest(parsing: Self.read(directory, "request.txt"))
        let signer = SigV4Signer(
            credentials: AWSCredentials(
                accessKeyId: context.credentials.access_key_id,
                secretAccessKey: context.credentials.secret_access_key,
                sessionToken: context.credentials.token),
            region: context.region, service: context.service,
            options: .init(
                normalizePath: context.normalize, doubleEncodePath: false,
                addContentSHA256Header: context.sign_body,
                omitSessionTokenFromSignature: context.omit_session_token ?? false))
        let date = try #require(ISO8601DateFormatter().date(from: context.timestamp))
        let payload = SigV4Payload.hashing(parsed.body)

        var request = parsed.request
        signer.sign(&request, payload: payload, date: date)

        // The canonical request covers the headers as signed (X-Amz-Date etc. added, Authorization not).
        var signedCopy = request
        signedCopy.headers.remove(name: "Authorization")
        let canonical = signer.canonicalRequest(signedCopy, payload: payload)
        #expect(canonical == (try Self.read(directory, "header-canonical-request.txt")), "\(name): canonical request")

        let timestamp = SigV4Timestamp(date)
        let toSign = signer.stringToSign(canonicalRequest: canonical, timestamp: timestamp)
        #expect(toSign == (try Self.read(directory, "header-string-to-sign.txt")), "\(name): string to sign")

        let signature = signer.signature(stringToSign: toSign, timestamp: timestamp)
        #expect(signature == (try Self.read(directory, "header-signature.txt")), "\(name): signature")

        let expectedSigned = try VectorRequest(parsing: Self.read(directory, "header-signed-request.txt"))
        #expect(request.headers["Authorization"] == expectedSigned.request.headers["Authorization"], "\(name): Authorization")
        #expect(
            request.headers["X-Amz-Security-Token"] == expectedSigned.request.headers["X-Amz-Security-Token"],
            "\(name): session token header")
    }

    private static func read(_ directory: URL, _ file: String) throws -> String {
        try String(contentsOf: directory.appendingPathComponent(file), encoding: .utf8)
    }
}

private struct VectorContext: Decodable {
    struct Credentials: Decodable {
        var access_key_id: String
        var secret_access_key: String
        var token: String?
    }
    var credentials: Credentials
    var normalize: Bool
    var region: String
    var service: String
    var sign_body: Bool
    var timestamp: String
    var omit_session_token: Bool?
}

/// A `request.txt`: request line, header lines (a line starting with whitespace continues the
/// previous value), a blank line, then the body.
private struct VectorRequest {
    var request: SigV4Request
    var body: [UInt8]

    struct Malformed: Error {
        var reason: String
    }

    init(parsing text: String) throws {
        let (head, body) = Self.splitHeadAndBody(text)
        var lines = head.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard !lines.isEmpty else { throw Malformed(reason: "empty request") }
        let requestLine = lines.removeFirst().split(separator: " ")
        guard requestLine.count >= 3 else { throw Malformed(reason: "request line") }
        // The URI may contain spaces (`/example space/`): it is everything between method and version.
        let method = String(requestLine[0])
        let uri = requestLine[1..<(requestLine.count - 1)].joined(separator: " ")
        let (path, queryString) = uri.firstIndex(of: "?").map { (String(uri[..<$0]), String(uri[uri.index(after: $0)...])) } ?? (uri, "")
        let query = queryString.isEmpty ? [] : queryString.split(separator: "&").map { pair -> SigV4Request.QueryItem in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            return .init(
                name: SigV4Encoding.percentDecode(String(parts[0])),
                value: parts.count > 1 ? SigV4Encoding.percentDecode(String(parts[1])) : "")
        }

        var fields: [(String, String)] = []
        for line in lines where !line.isEmpty {
            if line.first == " " || line.first == "\t", !fields.isEmpty {
                fields[fields.count - 1].1 += "\n" + line
                continue
            }
            guard let colon = line.firstIndex(of: ":") else { throw Malformed(reason: "header line \(line)") }
            fields.append((String(line[..<colon]), String(line[line.index(after: colon)...])))
        }
        self.request = SigV4Request(method: method, path: path, query: query, headers: HTTPHeaders(fields))
        self.body = Array(body.utf8)
    }

    private static func splitHeadAndBody(_ text: String) -> (String, String) {
        guard let range = text.range(of: "\n\n") else { return (text, "") }
        return (String(text[..<range.lowerBound]), String(text[range.upperBound...]))
    }
}

import AWS
import Foundation
import TestSupport
import Testing

/// Each credentials source, the chain's order and its refresh. Container and IMDS endpoints are
/// played by a loopback server; the instance-metadata endpoint is always set, so no request can
/// reach the real link-local address.
@Suite("Credentials and settings resolution")
struct CredentialResolutionTests {
    let transport = CurlTransport(configuration: .init(workerCount: 2, connectTimeout: .seconds(1)))

    /// A temp directory with `credentials` and `config` files.
    static func profileFiles(credentials: String, config: String) throws -> TemporaryDirectory {
        let directory = try TemporaryDirectory(prefix: "cis-aws")
        try credentials.write(toFile: directory.file("credentials"), atomically: true, encoding: .utf8)
        try config.write(toFile: directory.file("config"), atomically: true, encoding: .utf8)
        return directory
    }

    /// No real metadata service: disabled, and pointed at a closed loopback port anyway.
    static let isolated: [String: String] = [
        "AWS_EC2_METADATA_DISABLED": "true", "AWS_EC2_METADATA_SERVICE_ENDPOINT": "http://127.0.0.1:9/",
        "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/credentials", "AWS_CONFIG_FILE": "/nonexistent/config",
    ]

    static func environment(_ variables: [String: String]) -> AWSEnvironment {
        AWSEnvironment(Self.isolated.merging(variables) { $1 })
    }

    @Test("environment keys with a session token come first")
    func environmentFirst() async throws {
        let directory = try Self.profileFiles(credentials: "[default]\naws_access_key_id = FILEKEY\naws_secret_access_key = filesecret\n", config: "")
        let chain = AWSCredentialChain.defaultChain(
            environment: Self.environment([
                "AWS_ACCESS_KEY_ID": "ENVKEY", "AWS_SECRET_ACCESS_KEY": "envsecret", "AWS_SESSION_TOKEN": "envtoken",
                "AWS_SHARED_CREDENTIALS_FILE": directory.file("credentials"),
            ]), transport: self.transport)
        let credentials = try await chain.credentials()
        #expect(credentials == AWSCredentials(accessKeyId: "ENVKEY", secretAccessKey: "envsecret", sessionToken: "envtoken"))
    }

    @Test("half the environment pair is an error, not a silent fallback")
    func halfEnvironmentPair() async throws {
        let chain = AWSCredentialChain.defaultChain(environment: Self.environment(["AWS_ACCESS_KEY_ID": "ENVKEY"]), transport: self.transport)
        await #expect(throws: AWSConfigurationError.self) { try await chain.credentials() }
    }

    @Test("AWS_PROFILE selects a credentials-file section, and [profile x] in the config file")
    func profiles() async throws {
        let directory = try Self.profileFiles(
            credentials: """
                [default]
                aws_access_key_id = DEFAULTKEY
                aws_secret_access_key = defaultsecret

                # a comment
                [work]
                aws_access_key_id = WORKKEY
                aws_secret_access_key = worksecret
                aws_session_token = worktoken
                """,
            config: """
                [default]
                region = eu-central-1
                [profile other]
                region = ap-southeast-2
                aws_access_key_id = CONFIGKEY
                aws_secret_access_key = configsecret
                endpoint_url = http://127.0.0.1:4566
                """)
        let files = [
            "AWS_SHARED_CREDENTIALS_FILE": directory.file("credentials"),
            "AWS_CONFIG_FILE": directory.file("config"),
        ]
        let work = Self.environment(files.merging(["AWS_PROFILE": "work"]) { $1 })
        #expect(
            try await AWSCredentialChain.defaultChain(environment: work, transport: self.transport).credentials()
                == AWSCredentials(accessKeyId: "WORKKEY", secretAccessKey: "worksecret", sessionToken: "worktoken"))

        let defaults = Self.environment(files)
        #expect(try await AWSCredentialChain.defaultChain(environment: defaults, transport: self.transport).credentials().accessKeyId == "DEFAULTKEY")
        #expect(try defaults.region() == "eu-central-1")

        let other = Self.environment(files.merging(["AWS_PROFILE": "other"]) { $1 })
        #expect(try await AWSCredentialChain.defaultChain(environment: other, transport: self.transport).credentials().accessKeyId == "CONFIGKEY")
        #expect(try other.region() == "ap-southeast-2")
        #expect(try other.endpointOverride(serviceVariableSuffix: "S3") == "http://127.0.0.1:4566")

        let missing = Self.environment(files.merging(["AWS_PROFILE": "nope"]) { $1 })
        await #expect(throws: AWSConfigurationError.self) {
            try await AWSCredentialChain.defaultChain(environment: missing, transport: self.transport).credentials()
        }
    }

    @Test("region: AWS_REGION, then AWS_DEFAULT_REGION; endpoints: per service, then global")
    func regionAndEndpoints() throws {
        #expect(try Self.environment(["AWS_REGION": "us-west-2", "AWS_DEFAULT_REGION": "eu-west-1"]).region() == "us-west-2")
        #expect(try Self.environment(["AWS_DEFAULT_REGION": "eu-west-1"]).region() == "eu-west-1")
        #expect(try Self.environment([:]).region() == nil)
        let environment = Self.environment([
            "AWS_ENDPOINT_URL": "http://127.0.0.1:5000", "AWS_ENDPOINT_URL_SQS": "http://127.0.0.1:5001",
        ])
        #expect(try environment.endpointOverride(serviceVariableSuffix: "SQS") == "http://127.0.0.1:5001")
        #expect(try environment.endpointOverride(serviceVariableSuffix: "S3") == "http://127.0.0.1:5000")
        #expect(try Self.environment([:]).endpointOverride(serviceVariableSuffix: "S3") == nil)
    }

    @Test("the container endpoint (FULL_URI) with its authorization token")
    func containerFullURI() async throws {
        let server = try await ScriptedHTTPServer(plan: [
            .init(
                method: "GET", path: "/creds", status: 200,
                body: #"{"AccessKeyId":"ASIACONTAINER","SecretAccessKey":"containersecret","Token":"containertoken","Expiration":"2099-01-01T00:00:00Z"}"#)
        ])
        defer { server.stop() }
        let chain = AWSCredentialChain.defaultChain(
            environment: Self.environment([
                "AWS_CONTAINER_CREDENTIALS_FULL_URI": server.url + "/creds", "AWS_CONTAINER_AUTHORIZATION_TOKEN": "Bearer abc",
            ]), transport: self.transport)
        let credentials = try await chain.credentials()
        #expect(credentials.accessKeyId == "ASIACONTAINER")
        #expect(credentials.sessionToken == "containertoken")
        #expect(credentials.expiration == ISO8601DateFormatter().date(from: "2099-01-01T00:00:00Z"))
        #expect(server.requests.first?.headers["authorization"] == "Bearer abc")
    }

    @Test("the relative container URI goes to 169.254.170.2")
    func containerRelativeURI() async throws {
        // A transport that records the URL instead of sending: the link-local address is never contacted.
        let recorder = RecordingTransport(
            answer: HTTPResponse(
                status: 200, headers: HTTPHeaders(),
                body: Array(#"{"AccessKeyId":"ASIAREL","SecretAccessKey":"s","Token":"t","Expiration":"2099-01-01T00:00:00Z"}"#.utf8)))
        let source = ContainerCredentialSource(
            environment: Self.environment(["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/v2/credentials/abc"]), transport: recorder)
        #expect(try await source.load()?.accessKeyId == "ASIAREL")
        #expect(await recorder.urls == ["http://169.254.170.2/v2/credentials/abc"])
    }

    @Test("IMDSv2: token PUT, role GET, credentials GET, token sent on each GET")
    func instanceMetadata() async throws {
        let server = try await ScriptedHTTPServer(plan: [
            .init(method: "PUT", path: "/latest/api/token", status: 200, body: "imds-token"),
            .init(method: "GET", path: "/latest/meta-data/iam/security-credentials/", status: 200, body: "cis-role\n"),
            .init(
                method: "GET", path: "/latest/meta-data/iam/security-credentials/cis-role", status: 200,
                body: #"{"Code":"Success","AccessKeyId":"ASIAIMDS","SecretAccessKey":"imdssecret","Token":"imdstoken","Expiration":"2099-01-01T00:00:00Z"}"#),
        ])
        defer { server.stop() }
        var variables = Self.isolated
        variables["AWS_EC2_METADATA_DISABLED"] = nil
        variables["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = server.url
        let chain = AWSCredentialChain.defaultChain(environment: AWSEnvironment(variables), transport: self.transport)
        let credentials = try await chain.credentials()
        #expect(credentials.accessKeyId == "ASIAIMDS")
        #expect(credentials.sessionToken == "imdstoken")
        let requests = server.requests
        #expect(requests.map(\.method) == ["PUT", "GET", "GET"])
        #expect(requests[0].headers["x-aws-ec2-metadata-token-ttl-seconds"] == "21600")
        #expect(requests[1].headers["x-aws-ec2-metadata-token"] == "imds-token")
        #expect(requests[2].headers["x-aws-ec2-metadata-token"] == "imds-token")
    }

    @Test("AWS_EC2_METADATA_DISABLED skips IMDS, and no source at all is one clear error")
    func disabledAndNothingConfigured() async throws {
        let recorder = RecordingTransport(answer: HTTPResponse(status: 500, headers: HTTPHeaders(), body: []))
        let chain = AWSCredentialChain.defaultChain(environment: Self.environment([:]), transport: recorder)
        await #expect {
            try await chain.credentials()
        } throws: { error in
            "\(error)".contains("no AWS credentials found") && "\(error)".contains("AWS_ACCESS_KEY_ID")
        }
        #expect(await recorder.urls.isEmpty)
    }

    @Test("temporary credentials are refreshed 5 minutes before they expire, and cached until then")
    func refreshBeforeExpiry() async throws {
        let clock = TestClock(now: Date(timeIntervalSince1970: 1_700_000_000))
        let expiry = Date(timeIntervalSince1970: 1_700_000_000 + 3600)
        let formatter = ISO8601DateFormatter()
        let server = try await ScriptedHTTPServer(plan: [
            .init(times: 1, status: 200, body: #"{"AccessKeyId":"FIRST","SecretAccessKey":"s1","Token":"t1","Expiration":"\#(formatter.string(from: expiry))"}"#),
            .init(status: 200, body: #"{"AccessKeyId":"SECOND","SecretAccessKey":"s2","Token":"t2","Expiration":"2099-01-01T00:00:00Z"}"#),
        ])
        defer { server.stop() }
        let source = ContainerCredentialSource(
            environment: Self.environment(["AWS_CONTAINER_CREDENTIALS_FULL_URI": server.url + "/creds"]), transport: self.transport)
        let chain = AWSCredentialChain(sources: [source], refreshMargin: .seconds(300), now: { clock.now })
        #expect(try await chain.credentials().accessKeyId == "FIRST")
        clock.advance(by: 3600 - 301)
        #expect(try await chain.credentials().accessKeyId == "FIRST", "still cached 301 s before expiry")
        #expect(server.requests.count == 1)
        clock.advance(by: 2)
        #expect(try await chain.credentials().accessKeyId == "SECOND", "refreshed 299 s before expiry")
        #expect(server.requests.count == 2)
    }

    @Test("profile files: comments, spacing, [profile x] only in config")
    func profileFileParsing() {
        let config = AWSProfileFile(
            parsing: "; c\n[default]\nregion=us-east-1 # trailing\n[profile a b]\nx = 1\n[notaprofile]\ny = 2\n", kind: .config)
        #expect(config.profiles["default"]?["region"] == "us-east-1")
        #expect(config.profiles["a b"]?["x"] == "1")
        #expect(config.profiles["notaprofile"] == nil)
        let credentials = AWSProfileFile(parsing: "[profile x]\nk=v\n[x]\nAWS_Access_Key_Id = K\n", kind: .credentials)
        #expect(credentials.profiles["x"]?["aws_access_key_id"] == "K")
    }
}

/// Answers every request with one canned response and records the requests (never touches the network).
actor RecordingTransport: HTTPTransport {
    let answer: HTTPResponse
    private(set) var requests: [HTTPRequest] = []
    var urls: [String] { self.requests.map(\.url) }

    init(answer: HTTPResponse) {
        self.answer = answer
    }

    func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        self.requests.append(request)
        return self.answer
    }
}

/// A settable clock for expiry tests.
final class TestClock: @unchecked Sendable {
    // @unchecked: `current` is only touched under `lock`.
    private let lock = NSLock()
    private var current: Date

    init(now: Date) {
        self.current = now
    }

    var now: Date { self.lock.withLock { self.current } }

    func advance(by seconds: TimeInterval) {
        self.lock.withLock { self.current = self.current.addingTimeInterval(seconds) }
    }
}

import Foundation
import Testing

/// The moto_server that `scripts/test.sh` starts for a run: its endpoint (`CIS_TEST_MOTO_ENDPOINT`)
/// and the keys of the IAM user it verifies every SigV4 signature against (`AWS_ACCESS_KEY_ID`,
/// `AWS_SECRET_ACCESS_KEY`, made by `scripts/moto_iam_user.py`).
public struct MotoEnvironment: Sendable {
    public let endpoint: String
    public let accessKeyId: String
    public let secretAccessKey: String

    public struct Missing: Error {}

    /// Records an issue and throws (never skips) when the endpoint or the keys are not exported.
    public static func require() throws -> MotoEnvironment {
        let environment = ProcessInfo.processInfo.environment
        guard let endpoint = environment["CIS_TEST_MOTO_ENDPOINT"], !endpoint.isEmpty else {
            Issue.record(
                "CIS_TEST_MOTO_ENDPOINT is not set: run `make test` (it starts moto_server), or start moto_server on 127.0.0.1 as scripts/test.sh does and export it")
            throw Missing()
        }
        guard let key = environment["AWS_ACCESS_KEY_ID"], !key.isEmpty, let secret = environment["AWS_SECRET_ACCESS_KEY"], !secret.isEmpty
        else {
            Issue.record(
                "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must hold moto's IAM user's keys: run `make test`, or export what scripts/moto_iam_user.py prints")
            throw Missing()
        }
        return MotoEnvironment(endpoint: endpoint, accessKeyId: key, secretAccessKey: secret)
    }
}

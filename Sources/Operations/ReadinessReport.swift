/// The result of one readiness check, as `/readyz` names it.
public struct ReadinessCheck: Sendable, Equatable, Codable {
    public var name: String
    public var ok: Bool
    /// What was measured, or why it failed, in plain words.
    public var detail: String

    public init(name: String, ok: Bool, detail: String) {
        self.name = name
        self.ok = ok
        self.detail = detail
    }
}

/// `/readyz`'s answer: ready only when every check passed; `failing` names the ones that did not.
public struct ReadinessReport: Sendable, Equatable, Codable {
    public var status: String
    public var failing: [String]
    public var checks: [ReadinessCheck]

    public init(checks: [ReadinessCheck]) {
        self.checks = checks
        self.failing = checks.filter { !$0.ok }.map(\.name)
        self.status = self.failing.isEmpty ? "ready" : "not ready"
    }

    public var isReady: Bool { self.failing.isEmpty }
}

/// One readiness probe: a name and a check run every probe interval, under a timeout.
public struct ReadinessProbe: Sendable {
    public var name: String
    public var check: @Sendable () async -> ReadinessCheck

    public init(name: String, check: @escaping @Sendable () async -> ReadinessCheck) {
        self.name = name
        self.check = check
    }

    public static func passed(_ name: String, _ detail: String) -> ReadinessCheck {
        ReadinessCheck(name: name, ok: true, detail: detail)
    }

    public static func failed(_ name: String, _ detail: String) -> ReadinessCheck {
        ReadinessCheck(name: name, ok: false, detail: detail)
    }
}

import Foundation

/// Something that hands out current credentials to sign a request.
public protocol AWSCredentialProvider: Sendable {
    func credentials() async throws -> AWSCredentials

    /// Forgets cached credentials that a service called expired, so the next call reloads them.
    func invalidate() async
}

extension AWSCredentialProvider {
    public func invalidate() async {}
}

/// The SDKs' default chain: environment, shared files, container endpoint, instance metadata.
/// The first configured source wins; its credentials are cached and refreshed `refreshMargin`
/// before they expire. When a refresh fails, still-valid cached credentials are used.
public actor AWSCredentialChain: AWSCredentialProvider {
    public let sources: [any AWSCredentialSource]
    public let refreshMargin: Duration
    private let now: @Sendable () -> Date
    private var cached: AWSCredentials?
    private var refreshing: Task<AWSCredentials, any Error>?

    public init(
        sources: [any AWSCredentialSource], refreshMargin: Duration = .seconds(300),
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.sources = sources
        self.refreshMargin = refreshMargin
        self.now = now
    }

    /// The SDK default order.
    public static func defaultChain(environment: AWSEnvironment, transport: any HTTPTransport) -> AWSCredentialChain {
        AWSCredentialChain(sources: [
            EnvironmentCredentialSource(environment: environment),
            ProfileCredentialSource(environment: environment),
            ContainerCredentialSource(environment: environment, transport: transport),
            InstanceMetadataCredentialSource(environment: environment, transport: transport),
        ])
    }

    public func credentials() async throws -> AWSCredentials {
        if let cached = self.cached, !self.needsRefresh(cached) { return cached }
        // One refresh at a time; concurrent callers share it.
        let task = self.refreshing ?? Task { try await self.resolve() }
        self.refreshing = task
        defer { self.refreshing = nil }
        do {
            let fresh = try await task.value
            self.cached = fresh
            return fresh
        } catch {
            if let cached = self.cached, let expiration = cached.expiration, expiration > self.now() {
                return cached
            }
            throw error
        }
    }

    public func invalidate() {
        self.cached = nil
    }

    private func needsRefresh(_ credentials: AWSCredentials) -> Bool {
        guard let expiration = credentials.expiration else { return false }
        let margin = Double(self.refreshMargin.components.seconds)
        return expiration.timeIntervalSince(self.now()) <= margin
    }

    private func resolve() async throws -> AWSCredentials {
        for source in self.sources {
            if let credentials = try await source.load() { return credentials }
        }
        throw AWSConfigurationError(
            "no AWS credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, a profile (AWS_PROFILE) "
                + "in the shared credentials file, or run with a container or instance role")
    }
}

import BlockingWork
import Foundation

/// `HTTPTransport` over libcurl. Each transfer runs as one job on the blocking pool with an
/// easy handle taken from a free list and put back after (so connections stay alive between
/// requests); callers only await, so neither a NIO event loop nor the Swift cooperative
/// pool is ever blocked by I/O.
public final class CurlTransport: HTTPTransport {
    public struct Configuration: Sendable {
        /// Idle easy handles (each with its open connections) kept for the next transfers.
        /// Transfers beyond it still run, each on a handle of its own that is then freed (and
        /// its connection with it). The default keeps one per blocking-pool thread, the most
        /// transfers that can run at once, so a busy intake reuses every connection it opened.
        public var workerCount: Int
        public var connectTimeout: Duration
        /// Limit for a whole exchange unless the request sets its own.
        public var requestTimeout: Duration

        public init(workerCount: Int = BlockingPool.threadCount, connectTimeout: Duration = .seconds(5), requestTimeout: Duration = .seconds(60)) {
            self.workerCount = workerCount
            self.connectTimeout = connectTimeout
            self.requestTimeout = requestTimeout
        }
    }

    private let configuration: Configuration
    private let handles: CurlHandleFreeList

    public init(configuration: Configuration = Configuration()) {
        CurlLibrary.initialize()
        self.configuration = configuration
        self.handles = CurlHandleFreeList(capacity: max(1, configuration.workerCount))
    }

    public func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        let cancellation = TransferCancellation()
        return try await self.perform(request, cancellation: cancellation).get()
    }

    private func perform(
        _ request: HTTPRequest, cancellation: TransferCancellation
    ) async -> Result<HTTPResponse, HTTPTransportError> {
        let configuration = self.configuration
        let handles = self.handles
        return await withTaskCancellationHandler {
            await BlockingPool.run { () -> Result<HTTPResponse, HTTPTransportError> in
                if cancellation.isCancelled { return .failure(HTTPTransportError(.cancelled, "request cancelled")) }
                let handle = handles.take()
                defer { handles.putBack(handle) }
                return handle.perform(
                    request, connectTimeout: configuration.connectTimeout, totalTimeout: configuration.requestTimeout,
                    cancellation: cancellation)
            }
        } onCancel: {
            cancellation.cancel()
        }
    }
}

/// Idle easy handles, most recently used first, shared by the transport's pool jobs.
final class CurlHandleFreeList: @unchecked Sendable {
    // @unchecked: `idle` is only touched under `lock`, and a handle taken out is used by
    // the one job that took it until it is put back.
    private let lock = NSLock()
    private var idle: [CurlEasyHandle] = []
    private let capacity: Int

    init(capacity: Int) {
        self.capacity = capacity
    }

    func take() -> CurlEasyHandle {
        self.lock.withLock { self.idle.popLast() } ?? CurlEasyHandle()
    }

    func putBack(_ handle: CurlEasyHandle) {
        self.lock.withLock {
            if self.idle.count < self.capacity { self.idle.append(handle) }
        }
    }
}

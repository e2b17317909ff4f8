import Foundation

/// `HTTPTransport` over libcurl. Transfers run on worker threads this transport owns, each
/// with one reused easy handle (so connections stay alive between requests); callers only
/// await, so neither a NIO event loop nor the Swift cooperative pool is ever blocked by I/O.
public final class CurlTransport: HTTPTransport {
    public struct Configuration: Sendable {
        /// Concurrent transfers. A long poll (SQS ReceiveMessage) holds one worker for its wait time.
        public var workerCount: Int
        public var connectTimeout: Duration
        /// Limit for a whole exchange unless the request sets its own.
        public var requestTimeout: Duration

        public init(workerCount: Int = 8, connectTimeout: Duration = .seconds(5), requestTimeout: Duration = .seconds(60)) {
            self.workerCount = workerCount
            self.connectTimeout = connectTimeout
            self.requestTimeout = requestTimeout
        }
    }

    private let pool: CurlWorkerPool

    public init(configuration: Configuration = Configuration()) {
        self.pool = CurlWorkerPool(configuration: configuration)
    }

    deinit {
        self.pool.shutdown()
    }

    public func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        let cancellation = TransferCancellation()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<HTTPResponse, any Error>) in
                self.pool.submit(
                    CurlWorkerPool.Job(request: request, cancellation: cancellation) { result in
                        continuation.resume(with: result.mapError { $0 as any Error })
                    })
            }
        } onCancel: {
            cancellation.cancel()
        }
    }
}

/// Worker threads, each owning a `CurlEasyHandle`, fed from one queue.
final class CurlWorkerPool: @unchecked Sendable {
    // @unchecked: `jobs` and `stopping` are only touched while holding `condition`.
    struct Job: Sendable {
        var request: HTTPRequest
        var cancellation: TransferCancellation
        var complete: @Sendable (Result<HTTPResponse, HTTPTransportError>) -> Void
    }

    private let condition = NSCondition()
    private var jobs: [Job] = []
    private var stopping = false
    private let configuration: CurlTransport.Configuration

    init(configuration: CurlTransport.Configuration) {
        self.configuration = configuration
        CurlLibrary.initialize()
        for index in 0..<max(1, configuration.workerCount) {
            let thread = Thread { [self] in self.run() }
            thread.name = "cis-curl-\(index)"
            thread.start()
        }
    }

    func submit(_ job: Job) {
        self.condition.lock()
        guard !self.stopping else {
            self.condition.unlock()
            job.complete(.failure(HTTPTransportError(.cancelled, "transport shut down")))
            return
        }
        self.jobs.append(job)
        self.condition.signal()
        self.condition.unlock()
    }

    /// Lets the workers finish queued jobs, then end.
    func shutdown() {
        self.condition.lock()
        self.stopping = true
        self.condition.broadcast()
        self.condition.unlock()
    }

    private func run() {
        let handle = CurlEasyHandle()
        while let job = self.next() {
            if job.cancellation.isCancelled {
                job.complete(.failure(HTTPTransportError(.cancelled, "request cancelled")))
                continue
            }
            job.complete(
                handle.perform(
                    job.request, connectTimeout: self.configuration.connectTimeout,
                    totalTimeout: self.configuration.requestTimeout, cancellation: job.cancellation))
        }
    }

    private func next() -> Job? {
        self.condition.lock()
        defer { self.condition.unlock() }
        while self.jobs.isEmpty && !self.stopping {
            self.condition.wait()
        }
        return self.jobs.isEmpty ? nil : self.jobs.removeFirst()
    }
}

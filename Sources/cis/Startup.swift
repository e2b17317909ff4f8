import ArgumentParser
import Backends
import Consumer
import DropBox
import Foundation
import Logging
import Metrics
import NIOCore
import Operations
import Prometheus
import SMTPServer
import ServiceLifecycle
import UnixSignals

/// Runs services until SIGTERM/SIGINT, reporting a start-up failure as one line.
enum Startup {
    /// Exit status for a bad option value (sysexits EX_CONFIG).
    static let configurationExitCode = ExitCode(78)

    /// The registry `/metrics` renders; made (and swift-metrics bootstrapped) on first use,
    /// which `run` makes before any service exists.
    static let metricsRegistry: PrometheusCollectorRegistry = MetricsExport.bootstrap(
        helpTexts: [SMTPServerMetrics.helpTexts, DropBoxMetrics.helpTexts, BackendMetrics.helpTexts, ConsumerMetrics.helpTexts,
                    OperationsMetrics.helpTexts].reduce(into: [:]) { all, texts in all.merge(texts) { first, _ in first } })

    /// Prints `cis: <problem>` to standard error and exits non-zero.
    static func fail(_ problem: String, exitCode: ExitCode = .failure) -> ExitCode {
        FileHandle.standardError.write(Data("cis: \(problem)\n".utf8))
        return exitCode
    }

    /// Builds the services (`make` may throw a `ConfigurationError`), binds the listener when
    /// there is one, and runs.
    static func run(
        logging: LoggingOptions, shutdownTimeout: (Settings) throws(ConfigurationError) -> Duration,
        make: (Settings, Logger) async throws(ConfigurationError) -> (server: SMTPServer?, services: [any Service])
    ) async throws {
        // SIGHUP reloads (`ReloadService`); one arriving while the services are still being
        // built is ignored rather than ending the process.
        signal(SIGHUP, SIG_IGN)
        let settings = Settings()
        let server: SMTPServer?
        let services: [any Service]
        let deadline: Duration
        let logger: Logger
        do {
            try logging.bootstrap(settings)
            logger = Logger(label: "cis")
            _ = self.metricsRegistry
            OperationsMetrics.startTime.record(Date().timeIntervalSince1970)
            OperationsMetrics.recordBuildInfo(version: CIS.configuration.version)
            deadline = try shutdownTimeout(settings)
            (server, services) = try await make(settings, logger)
        } catch {
            throw self.fail("\(error)", exitCode: self.configurationExitCode)
        }
        if let server {
            do {
                try await server.bind()
            } catch {
                let listen = "\(server.configuration.host):\(server.configuration.port)"
                throw self.fail("--listen \(listen): \(error)")
            }
        }
        var configuration = ServiceGroupConfiguration(
            services: services.map { .init(service: $0) }, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        configuration.maximumGracefulShutdownDuration = deadline
        configuration.maximumCancellationDuration = .seconds(5)
        try await ServiceGroup(configuration: configuration).run()
    }
}

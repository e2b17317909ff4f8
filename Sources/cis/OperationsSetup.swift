import Backends
import BlockingWork
import Consumer
import Foundation
import Logging
import Metrics
import NIOCore
import NIOSSL
import Notifications
import Operations
import Prometheus
import SMTPCore
import ServiceLifecycle

/// The HTTP side port of one process, wired to its backends: the readiness probes, the
/// status page's sources, the activity log that the intake and the consumer feed; and
/// systemd's notifications, which run with the side port off too.
final class OperationsSetup: Sendable {
    /// nil with `--http-listen off`.
    let http: (configuration: OperationsConfiguration, policy: HTTPAccessPolicy)?
    let activity: ActivityLog?
    private let registry: PrometheusCollectorRegistry
    private let backends: BackendSet
    private let keyPrefix: String
    private let dataDirectory: String
    private let certificatePath: String?
    private let watchdog: SystemdWatchdog?
    private let smtpBound = ListenerFlag()
    private let runsIntake: Bool
    /// The SNS topics this process publishes to (`--backend aws` with a consumer).
    private let topicARNs: [String]
    private let logger: Logger

    /// - Parameter http: `OperationsOptions.configuration`, checked before the backends were made.
    init(
        http: (configuration: OperationsConfiguration, policy: HTTPAccessPolicy)?, settings: Settings, logger: Logger,
        backends: BackendSet, backendOptions: BackendOptions, runsIntake: Bool, certificatePath: String?, topicARNs: [String] = []
    ) throws(ConfigurationError) {
        self.topicARNs = topicARNs
        self.http = http
        self.activity = self.http.map { ActivityLog(capacity: $0.configuration.statusMessages) }
        self.registry = Startup.metricsRegistry
        self.backends = backends
        self.keyPrefix = try backendOptions.keyPrefix(settings)
        self.dataDirectory = backendOptions.dataDirectory(settings)
        self.certificatePath = certificatePath
        self.runsIntake = runsIntake
        self.logger = logger
        self.watchdog = Self.makeWatchdog(
            settings: settings, listeners: (runsIntake ? 1 : 0) + (self.http == nil ? 0 : 1), logger: logger)
    }

    static func makeWatchdog(settings: Settings, listeners: Int, logger: Logger) -> SystemdWatchdog? {
        guard let notifier = SystemdNotifier(environment: settings.environment) else { return nil }
        return SystemdWatchdog(
            notifier: notifier,
            watchdogInterval: SystemdNotifier.watchdogInterval(environment: settings.environment, processID: getpid()),
            listeners: listeners, logger: logger)
    }

    /// The services to run; they go first in the group's list, so they stop last.
    func services() -> [any Service] {
        let watchdog = self.watchdog
        guard let http = self.http, let activity = self.activity else {
            return watchdog.map { [$0] } ?? []
        }
        let (configuration, policy) = (http.configuration, http.policy)
        let readiness = ReadinessMonitor(
            probes: self.probes(), interval: configuration.probeInterval, timeout: configuration.probeTimeout, logger: self.logger)
        self.smtpBound.whenSet { readiness.checkSoon() }
        let logger = self.logger
        let tokenNote = policy.token == nil ? "open on loopback" : "token required beyond /healthz and /metrics"
        let server = OperationsServer(
            configuration: configuration, policy: policy, registry: self.registry, readiness: readiness,
            activity: activity, sources: self.sources(activity), logger: logger,
            onServerRunning: { address in
                defer { watchdog?.listenerBound() }
                guard let address else { return }
                let host = address.ipAddress.map { $0.contains(":") ? "[\($0)]" : $0 } ?? configuration.host
                logger.notice(
                    "status page at http://\(host):\(address.port ?? configuration.port)/ (\(tokenNote))",
                    metadata: ["ops.http.address": "\(host)", "ops.http.port": "\(address.port ?? configuration.port)"])
            })
        return [readiness, server] + (watchdog.map { [$0] } ?? [])
    }

    /// Wraps the intake's sink so that every result reaches the status page.
    func recording(_ sink: any MessageSink) -> any MessageSink {
        self.activity.map { ActivityRecordingSink(sink: sink, activity: $0) } ?? sink
    }

    func smtpListening() {
        self.smtpBound.set()
        self.watchdog?.listenerBound()
    }

    /// Feeds the consumer's outcomes into the activity log (one row per stored message id).
    var consumerObserver: ConsumerActivityObserver? {
        guard let activity = self.activity else { return nil }
        return { event in
            let now = Date()
            for key in event.objectKeys {
                let messageId = String(key.split(separator: "/").last ?? Substring(key))
                let outcome: ConsumerActivityRecord.Outcome
                var route: String?
                switch event.kind {
                case .published(let published):
                    outcome = .published
                    route = published.rawValue
                case .ignored: outcome = .ignored
                case .completed: outcome = .completed
                case .deadLettered: outcome = .deadLettered
                }
                activity.record(
                    ConsumerActivityRecord(
                        messageId: messageId, at: now, outcome: outcome, route: route, uid: event.uid, summary: event.summary,
                        failureReason: event.failureReason, duration: event.duration))
            }
        }
    }

    // MARK: Readiness

    private func probes() -> [ReadinessProbe] {
        var probes: [ReadinessProbe] = []
        if self.runsIntake {
            let bound = self.smtpBound
            probes.append(
                ReadinessProbe(name: "smtp_listener") {
                    bound.isSet
                        ? ReadinessProbe.passed("smtp_listener", "the SMTP listener accepts connections")
                        : ReadinessProbe.failed("smtp_listener", "the SMTP listener is not bound yet")
                })
        }
        if let queue = self.backends.queue as? SQLiteMessageQueue {
            let maximum = self.http?.configuration.readyMaximumQueueDepth ?? OperationsConfiguration.defaultReadyMaximumQueueDepth
            probes.append(
                ReadinessProbe(name: "queue") {
                    do {
                        let statistics = try await queue.statistics()
                        let depth = statistics.visible + statistics.inFlight
                        OperationsMetrics.queueDepth.record(depth)
                        OperationsMetrics.deadLetters.record(statistics.deadLetters)
                        let age = try await queue.oldestMessageAge() ?? .zero
                        OperationsMetrics.queueOldestAge.record(Double(age.components.seconds))
                        return depth <= maximum
                            ? ReadinessProbe.passed("queue", "\(depth) messages queued (at most \(maximum))")
                            : ReadinessProbe.failed("queue", "\(depth) messages queued, more than --ready-max-queue-depth \(maximum)")
                    } catch {
                        return ReadinessProbe.failed("queue", "the queue cannot be read: \(error)")
                    }
                })
        }
        if self.backends.aws != nil {
            probes += AWSReadinessProbes.probes(
                backends: self.backends, keyPrefix: self.keyPrefix, topicARNs: self.topicARNs,
                maximumQueueDepth: self.http?.configuration.readyMaximumQueueDepth ?? OperationsConfiguration.defaultReadyMaximumQueueDepth,
                timeout: self.http?.configuration.probeTimeout ?? .seconds(OperationsConfiguration.defaultProbeTimeoutSeconds))
        }
        if let store = self.backends.localObjectStore {
            probes.append(
                ReadinessProbe(name: "journal") {
                    switch store.lastCheckpointSucceeded {
                    case false?: ReadinessProbe.failed("journal", "the last journal checkpoint failed (see the log)")
                    case true?: ReadinessProbe.passed("journal", "the last journal checkpoint succeeded")
                    case nil: ReadinessProbe.passed("journal", "no checkpoint was due yet")
                    }
                })
        }
        let directory = self.dataDirectory
        let floor = self.http?.configuration.readyMinimumDiskFreeBytes ?? 0
        probes.append(
            ReadinessProbe(name: "disk_free") {
                let free = await BlockingPool.run { Self.freeBytes(directory) }
                guard let free else { return ReadinessProbe.failed("disk_free", "cannot read the free space of \(directory)") }
                OperationsMetrics.diskFree.record(Double(free))
                let mebibytes = free >> 20
                return free >= floor
                    ? ReadinessProbe.passed("disk_free", "\(mebibytes) MiB free in \(directory)")
                    : ReadinessProbe.failed("disk_free", "\(mebibytes) MiB free in \(directory), less than --ready-min-disk-free \(floor >> 20)")
            })
        if let path = self.certificatePath {
            probes.append(
                ReadinessProbe(name: "tls_certificate") {
                    // Read again each time, so that a renewed certificate shows.
                    let notAfter = await BlockingPool.run { () -> Int? in
                        (try? NIOSSLCertificate.fromPEMFile(path).first).map { Int($0.notValidAfter) }
                    }
                    guard let notAfter else { return ReadinessProbe.failed("tls_certificate", "cannot read \(path)") }
                    OperationsMetrics.certificateExpiry.record(Double(notAfter))
                    let expiry = ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: Double(notAfter)))
                    // An expired certificate still encrypts; alerts, not readiness, tell about it.
                    return ReadinessProbe.passed("tls_certificate", "valid until \(expiry)")
                })
        }
        return probes
    }

    /// Free bytes for an unprivileged writer on the file system of `directory` (or of its
    /// nearest existing parent, before the directory is made).
    static func freeBytes(_ directory: String) -> UInt64? {
        var info = statvfs()
        var path = directory
        while statvfs(path, &info) != 0 {
            guard errno == ENOENT, path != "/", !path.isEmpty else { return nil }
            path = (path as NSString).deletingLastPathComponent
            if path.isEmpty { path = "." }
        }
        return UInt64(info.f_bavail) * UInt64(info.f_frsize)
    }

    // MARK: Status page sources

    private func sources(_ activity: ActivityLog) -> StatusSources {
        let store = self.backends.objectStore
        let prefix = self.keyPrefix
        var sources = StatusSources(storedMessage: { id in
            do {
                let object = try await store.get(key: prefix + id)
                return StoredMessage(bytes: object.bytes, metadata: object.metadata)
            } catch let error as BackendError where error.kind == .notFound {
                return nil
            }
        })
        if let queue = self.backends.queue as? SQLiteMessageQueue {
            sources.deadLetters = {
                let maximum = OperationsConfiguration.maximumDeadLettersListed
                let letters = try await queue.newestDeadLetters(limit: maximum)
                var total = letters.count
                if total == maximum { total = try await queue.statistics().deadLetters }
                let reasons = activity.snapshot(limit: OperationsConfiguration.defaultStatusMessages).messages
                return DeadLetterList(
                    note: total > letters.count
                        ? "The newest \(letters.count) of \(total) dead letters are listed here; `cis dlq list` lists them all."
                        : nil,
                    deadLetters: letters.map { letter in
                        let messageId = Self.storedMessageId(notification: letter.body)
                        let known = messageId.flatMap { id in reasons.first { $0.messageId == id }?.failureReason }
                        return DeadLetterList.Entry(
                            queueMessageId: letter.messageId, messageId: messageId, receiveCount: letter.receiveCount,
                            deadLetteredAt: letter.deadLetteredAt,
                            reason: known
                                ?? "Received \(letter.receiveCount) times without success; each error is in the consumer's log (\"Message cannot be processed\").")
                    })
            }
        } else if let deadLetters = self.backends.deadLetterQueue {
            let timeout = self.http?.configuration.probeTimeout ?? .seconds(OperationsConfiguration.defaultProbeTimeoutSeconds)
            sources.deadLetters = {
                let reasons = activity.snapshot(limit: OperationsConfiguration.defaultStatusMessages).messages
                return try await SQSDeadLetterPeek.list(deadLetters, timeout: timeout) { id in
                    reasons.first { $0.messageId == id }?.failureReason
                }
            }
        } else {
            sources.deadLetters = {
                DeadLetterList(
                    note: "No SQS dead-letter queue is named: give --dead-letter-queue-url (CIS_DEAD_LETTER_QUEUE_URL) to see it here.",
                    deadLetters: [])
            }
        }
        return sources
    }

    /// The stored message's id from a queued notification (the last segment of its first object key).
    static func storedMessageId(notification: String) -> String? {
        guard case .objectsCreated(let objects)? = try? QueueNotification.decode(notification), let key = objects.first?.key
        else { return nil }
        return key.split(separator: "/").last.map(String.init)
    }
}

/// Set once, read by the readiness probe, which is asked to look again when it is set.
final class ListenerFlag: @unchecked Sendable {
    // @unchecked: `value` and `observer` are only touched with `lock` held.
    private let lock = NSLock()
    private var value = false
    private var observer: (@Sendable () -> Void)?

    func set() {
        let observer = self.lock.withLock {
            self.value = true
            return self.observer
        }
        observer?()
    }

    var isSet: Bool { self.lock.withLock { self.value } }

    /// Calls `observer` when the flag is set (now, if it is).
    func whenSet(_ observer: @escaping @Sendable () -> Void) {
        let already = self.lock.withLock {
            self.observer = observer
            return self.value
        }
        if already { observer() }
    }
}

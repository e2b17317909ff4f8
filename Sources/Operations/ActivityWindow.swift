import Foundation

/// What the intake did with one message: stored (with its id) or refused with a 451.
public struct IntakeActivity: Sendable, Equatable {
    public var messageId: String?
    public var receivedAt: Date
    public var clientAddress: String
    public var envelopeSender: String
    public var size: Int
    public var recipients: Int
    public var tls: Bool
    /// From the end of DATA to the reply.
    public var latency: Duration
    /// Why the message was not stored (451), nil when it was.
    public var failure: String?

    public init(
        messageId: String?, receivedAt: Date, clientAddress: String, envelopeSender: String, size: Int, recipients: Int,
        tls: Bool, latency: Duration, failure: String?
    ) {
        self.messageId = messageId
        self.receivedAt = receivedAt
        self.clientAddress = clientAddress
        self.envelopeSender = envelopeSender
        self.size = size
        self.recipients = recipients
        self.tls = tls
        self.latency = latency
        self.failure = failure
    }
}

/// What the consumer did with one stored message.
public struct ConsumerActivityRecord: Sendable, Equatable {
    public enum Outcome: String, Sendable, Codable {
        /// One topic message published to `route`.
        case published
        /// Nothing to publish in the message.
        case ignored
        /// Every publish the queue message needed is done; `duration` is its processing time.
        case completed
        /// Left for the dead-letter queue, with `failureReason`.
        case deadLettered = "dead-lettered"
    }

    /// The stored message's id (the last segment of its object key).
    public var messageId: String
    public var at: Date
    public var outcome: Outcome
    public var route: String?
    public var uid: String?
    public var summary: String?
    /// The reason told on the failure route, or why the message was left for the dead-letter queue.
    public var failureReason: String?
    /// Receipt to done, for `completed` and `deadLettered`: what the consumer chart shows.
    public var duration: Duration?

    public init(
        messageId: String, at: Date, outcome: Outcome, route: String? = nil, uid: String? = nil, summary: String? = nil,
        failureReason: String? = nil, duration: Duration? = nil
    ) {
        self.messageId = messageId
        self.at = at
        self.outcome = outcome
        self.route = route
        self.uid = uid
        self.summary = summary
        self.failureReason = failureReason
        self.duration = duration
    }
}

/// The last hour of activity, bounded: at most `capacity` message rows (oldest dropped first)
/// and one bucket per minute for the counts and charts. Pure; `ActivityLog` puts a lock around it.
public struct ActivityWindow: Sendable {
    public static let minutes = 60
    /// Distinct failure reasons counted per minute; more are counted as "other reasons".
    static let maximumReasonsPerMinute = 32
    /// Longest text kept from a client (sender, summary, reason): the page shows, never stores, megabytes.
    static let maximumTextLength = 300

    public struct Row: Sendable, Equatable, Codable {
        public var messageId: String
        public var time: Date
        public var client: String?
        public var sender: String?
        public var size: Int?
        public var tls: Bool?
        public var routes: [String]
        public var uid: String?
        public var summary: String?
        public var failureReason: String?
        public var status: String
        /// Whether the stored message can be downloaded (it was stored by this process's intake or named by the consumer).
        public var stored: Bool
    }

    struct Minute: Sendable {
        var index: Int
        var intakeCount = 0
        var intakeFailures = 0
        var intakeLatencyMilliseconds = 0.0
        var consumerCount = 0
        var consumerLatencyMilliseconds = 0.0
        var consumerTimed = 0
        var routes: [String: Int] = [:]
        var reasons: [String: Int] = [:]
    }

    public let capacity: Int
    private(set) var rows: [Row] = []
    /// Where each message id's last row is, as a count of rows appended before it: a lookup per
    /// record instead of a scan of every row (one per message, from the intake and the consumer).
    private var rowNumbers: [String: Int] = [:]
    /// Rows dropped from the front so far.
    private var droppedRows = 0
    private var minutes: [Minute] = []

    public init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    public mutating func record(_ intake: IntakeActivity) {
        let id = intake.messageId ?? "unstored-\(Int(intake.receivedAt.timeIntervalSince1970 * 1000))"
        let row = Row(
            messageId: id, time: intake.receivedAt, client: intake.clientAddress,
            sender: Self.clip(intake.envelopeSender), size: intake.size, tls: intake.tls, routes: [], uid: nil,
            summary: nil, failureReason: intake.failure.map(Self.clip), status: intake.failure == nil ? "stored" : "refused (451)",
            stored: intake.messageId != nil && intake.failure == nil)
        if let index = self.lastRowIndex(of: id) {
            // The consumer may have finished before the intake's reply was recorded.
            var merged = row
            merged.routes = self.rows[index].routes
            merged.uid = self.rows[index].uid
            merged.summary = self.rows[index].summary
            merged.failureReason = self.rows[index].failureReason ?? merged.failureReason
            merged.status = self.rows[index].status
            self.rows[index] = merged
        } else {
            self.append(row)
        }
        self.updateMinute(at: intake.receivedAt) { minute in
            minute.intakeCount += 1
            if intake.failure != nil { minute.intakeFailures += 1 }
            minute.intakeLatencyMilliseconds += Self.milliseconds(intake.latency)
        }
    }

    public mutating func record(_ consumer: ConsumerActivityRecord) {
        if let index = self.lastRowIndex(of: consumer.messageId) {
            Self.apply(consumer, to: &self.rows[index])
        } else {
            var row = Row(
                messageId: consumer.messageId, time: consumer.at, client: nil, sender: nil, size: nil, tls: nil,
                routes: [], uid: nil, summary: nil, failureReason: nil, status: "", stored: true)
            Self.apply(consumer, to: &row)
            self.append(row)
        }
        self.updateMinute(at: consumer.at) { minute in
            if let duration = consumer.duration {
                minute.consumerCount += 1
                minute.consumerLatencyMilliseconds += Self.milliseconds(duration)
                minute.consumerTimed += 1
            }
            if let route = consumer.route {
                minute.routes[route, default: 0] += 1
            } else if consumer.outcome == .deadLettered {
                minute.routes["dead-letter", default: 0] += 1
            }
            if let reason = consumer.failureReason.map(Self.clip) {
                let key = minute.reasons[reason] != nil || minute.reasons.count < Self.maximumReasonsPerMinute ? reason : "other reasons"
                minute.reasons[key, default: 0] += 1
            }
        }
    }

    private static func apply(_ consumer: ConsumerActivityRecord, to row: inout Row) {
        if let route = consumer.route, !row.routes.contains(route) { row.routes.append(route) }
        row.uid = consumer.uid ?? row.uid
        row.summary = consumer.summary.map(Self.clip) ?? row.summary
        row.failureReason = consumer.failureReason.map(Self.clip) ?? row.failureReason
        switch consumer.outcome {
        case .published: row.status = "published"
        case .ignored: row.status = "ignored"
        case .completed: if row.status != "ignored" { row.status = row.routes.isEmpty ? "processed" : "published" }
        case .deadLettered: row.status = "dead-lettered"
        }
    }

    private mutating func append(_ row: Row) {
        self.rowNumbers[row.messageId] = self.droppedRows + self.rows.count
        self.rows.append(row)
        guard self.rows.count > self.capacity else { return }
        let excess = self.rows.count - self.capacity
        for (offset, dropped) in self.rows.prefix(excess).enumerated()
        where self.rowNumbers[dropped.messageId] == self.droppedRows + offset {
            self.rowNumbers[dropped.messageId] = nil
        }
        self.rows.removeFirst(excess)
        self.droppedRows += excess
    }

    /// The index in `rows` of the last row with this message id.
    private func lastRowIndex(of messageId: String) -> Int? {
        guard let number = self.rowNumbers[messageId] else { return nil }
        let index = number - self.droppedRows
        return self.rows.indices.contains(index) ? index : nil
    }

    private mutating func updateMinute(at date: Date, _ update: (inout Minute) -> Void) {
        let index = Self.minuteIndex(date)
        if let position = self.minutes.lastIndex(where: { $0.index == index }) {
            update(&self.minutes[position])
        } else {
            var minute = Minute(index: index)
            update(&minute)
            self.minutes.append(minute)
            self.minutes.sort { $0.index < $1.index }
            if self.minutes.count > Self.minutes + 1 { self.minutes.removeFirst(self.minutes.count - Self.minutes - 1) }
        }
    }

    static func minuteIndex(_ date: Date) -> Int { Int((date.timeIntervalSince1970 / 60).rounded(.down)) }

    static func milliseconds(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return Double(seconds) * 1000 + Double(attoseconds) / 1e15
    }

    static func clip(_ text: String) -> String {
        text.count <= Self.maximumTextLength ? text : String(text.prefix(Self.maximumTextLength)) + "…"
    }

    /// What the page shows: the newest `limit` rows, and the last hour's counts and per-minute series.
    public func snapshot(now: Date, limit: Int) -> ActivitySnapshot {
        let current = Self.minuteIndex(now)
        let recent = self.minutes.filter { $0.index > current - Self.minutes && $0.index <= current }
        var routes: [String: Int] = [:]
        var reasons: [String: Int] = [:]
        for minute in recent {
            routes.merge(minute.routes, uniquingKeysWith: +)
            reasons.merge(minute.reasons, uniquingKeysWith: +)
        }
        let series = (0..<Self.minutes).map { offset -> ActivitySnapshot.Point in
            let index = current - Self.minutes + 1 + offset
            let minute = recent.first { $0.index == index }
            let intake = minute?.intakeCount ?? 0
            let timed = minute?.consumerTimed ?? 0
            return ActivitySnapshot.Point(
                minute: Date(timeIntervalSince1970: Double(index * 60)),
                intakeMessages: intake,
                intakeFailures: minute?.intakeFailures ?? 0,
                intakeLatencyMilliseconds: intake > 0 ? (minute!.intakeLatencyMilliseconds / Double(intake)) : nil,
                consumerMessages: minute?.consumerCount ?? 0,
                consumerLatencyMilliseconds: timed > 0 ? (minute!.consumerLatencyMilliseconds / Double(timed)) : nil)
        }
        return ActivitySnapshot(
            generatedAt: now,
            messages: Array(self.rows.suffix(max(0, limit)).reversed()),
            routeCounts: routes, failureReasonCounts: reasons, series: series)
    }
}

/// The status page's JSON: `GET /api/activity`.
public struct ActivitySnapshot: Sendable, Codable, Equatable {
    public struct Point: Sendable, Codable, Equatable {
        public var minute: Date
        public var intakeMessages: Int
        public var intakeFailures: Int
        public var intakeLatencyMilliseconds: Double?
        public var consumerMessages: Int
        public var consumerLatencyMilliseconds: Double?
    }

    public var generatedAt: Date
    public var messages: [ActivityWindow.Row]
    public var routeCounts: [String: Int]
    public var failureReasonCounts: [String: Int]
    /// One point per minute of the last hour, oldest first.
    public var series: [Point]
}

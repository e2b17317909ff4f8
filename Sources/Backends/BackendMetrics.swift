import Metrics
import Foundation

/// The embedded store's journal metrics, and the last checkpoint's result per store
/// directory (what readiness asks).
public enum BackendMetrics {
    /// `# HELP` texts of the backends' metrics, by name (`DescribedMetricsFactory`).
    public static let helpTexts: [String: String] = [
        "cis_journal_batch_messages": "Messages made durable by one journal fdatasync (group commit).",
        "cis_journal_fsyncs_total": "Journal fdatasyncs.",
        "cis_journal_checkpoint_seconds": "Journal checkpoints (syncfs and reset), in seconds.",
        "cis_journal_checkpoints_total": "Journal checkpoints, by result.",
    ]

    static let journalBatchMessages = Recorder(label: "cis_journal_batch_messages")
    static let journalFsyncs = Counter(label: "cis_journal_fsyncs_total")
    static let checkpointDuration = Metrics.Timer(label: "cis_journal_checkpoint_seconds")

    private static let lastCheckpoint = CheckpointResults()

    /// One batch of puts made durable with one journal `fdatasync`.
    static func journalSynced(batch: Int) {
        Self.journalFsyncs.increment()
        Self.journalBatchMessages.record(batch)
    }

    static func checkpointFinished(directory: String, duration: Duration, succeeded: Bool) {
        Self.checkpointDuration.record(duration: duration)
        Counter(label: "cis_journal_checkpoints_total", dimensions: [("result", succeeded ? "success" : "failure")]).increment()
        Self.lastCheckpoint.set(directory, succeeded)
    }

    /// nil before the store in `directory` has tried a checkpoint.
    static func lastCheckpointSucceeded(directory: String) -> Bool? {
        Self.lastCheckpoint.get(directory)
    }
}

private final class CheckpointResults: @unchecked Sendable {
    // @unchecked: `results` is only touched with `lock` held.
    private let lock = NSLock()
    private var results: [String: Bool] = [:]

    func set(_ directory: String, _ succeeded: Bool) {
        self.lock.withLock { self.results[directory] = succeeded }
    }

    func get(_ directory: String) -> Bool? {
        self.lock.withLock { self.results[directory] }
    }
}

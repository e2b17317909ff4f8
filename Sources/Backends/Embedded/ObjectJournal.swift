import Digest
import FileIO
import Foundation

/// The object store's write-ahead journal, `<directory>/.meta/journal`: with group commit,
/// a batch of puts is written as `JournalRecord`s and made durable with one `fdatasync`
/// of this one file, which is what lets a put be answered before its own object file is
/// synced. The object files are synced later, all at once (`syncfs`) at a checkpoint,
/// after which the journal starts again from its beginning. At start-up, records still
/// in the journal are written out again (`replay`).
///
/// The file is zero-filled ahead of the records (`growthStep` at a time) and reused after
/// each checkpoint, so that a batch's `fdatasync` overwrites blocks already allocated and
/// has no file-system metadata to commit: it writes the data and flushes the disk cache,
/// without forcing a file-system journal commit that would stall every file creation.
final class ObjectJournal {
    let file: FileDescriptor
    /// Where the next record goes: the end of those written since the last checkpoint.
    private(set) var size = 0
    /// How much of the file is allocated and zero-filled.
    private var allocated: Int
    private(set) var epoch = ObjectJournal.newEpoch()
    /// When the oldest record not yet checkpointed was written; nil while there is none.
    private(set) var oldestRecordAt: Date?

    static let fileName = "journal"
    static let growthStep = 4 * 1024 * 1024

    /// Opens the journal to write from its start; run `replay` first.
    init(path: String) throws {
        self.file = try FileDescriptor.open(path, flags: O_RDWR | O_CREAT)
        self.allocated = try self.file.size()
        try self.file.sync()
    }

    /// Writes the records after the last ones; not durable until `file` is synced. On a
    /// failed write the range is zeroed again, best effort, so that replay ends before it.
    func append(_ records: [(key: String, metadataJSON: String, body: [UInt8]?, notification: JournaledNotification?)]) throws {
        var bytes: [UInt8] = []
        for record in records {
            JournalRecord.append(
                epoch: self.epoch, key: record.key, metadataJSON: record.metadataJSON, body: record.body,
                notification: record.notification, to: &bytes)
        }
        guard !bytes.isEmpty else { return }
        do {
            try self.allocate(upTo: self.size + bytes.count)
            try self.file.writeAll(bytes, at: self.size)
        } catch {
            self.discard(from: self.size, count: bytes.count)
            throw error
        }
        self.size += bytes.count
        if self.oldestRecordAt == nil { self.oldestRecordAt = Date() }
    }

    /// Records without notifications.
    func append(_ records: [(key: String, metadataJSON: String, body: [UInt8]?)]) throws {
        try self.append(records.map { ($0.key, $0.metadataJSON, $0.body, nil) })
    }

    /// Takes back the records from `start` on (a batch whose sync failed).
    func discard(from start: Int) {
        self.discard(from: start, count: self.size - start)
        self.size = start
        if start == 0 { self.oldestRecordAt = nil }
    }

    /// Restarts the checkpoint clock after a checkpoint failed.
    func postponeCheckpoint() {
        if self.size > 0 { self.oldestRecordAt = Date() }
    }

    /// Starts the journal again from its beginning, durably; call only once every object
    /// it holds is durable. The first header is zeroed and later records have another epoch.
    func reset() throws {
        try Self.invalidateFirstRecord(self.file)
        self.size = 0
        self.epoch = Self.newEpoch()
        self.oldestRecordAt = nil
    }

    /// Zeroes the first header and syncs, so that replay finds nothing in the journal.
    static func invalidateFirstRecord(_ file: FileDescriptor) throws {
        if try file.size() > 0 {
            try file.writeAll([UInt8](repeating: 0, count: JournalRecord.headerSize), at: 0)
            try file.dataSync()
        }
    }

    /// Calls `body` with every record of the journal at `path` that `JournalRecord.scan`
    /// finds: those written since the last checkpoint, up to the first torn one (the tail
    /// of a batch that was never answered).
    static func forEachRecord(at path: String, _ body: (JournalRecord) throws -> Void) throws {
        let file = try FileDescriptor.open(path, flags: O_RDONLY)
        try JournalRecord.scan(read: { count, offset in try file.read(count: count, at: offset) }, body)
        try file.close()
    }

    /// Zero-fills the file up to at least `end`, a growth step at a time, and syncs it once.
    private func allocate(upTo end: Int) throws {
        guard end > self.allocated else { return }
        let target = (end + Self.growthStep - 1) / Self.growthStep * Self.growthStep
        let zeros = [UInt8](repeating: 0, count: 1024 * 1024)
        var offset = self.allocated
        while offset < target {
            let count = min(zeros.count, target - offset)
            try self.file.writeAll(count == zeros.count ? zeros : Array(zeros[..<count]), at: offset)
            offset += count
        }
        try self.file.sync()
        self.allocated = target
    }

    private func discard(from start: Int, count: Int) {
        guard count > 0 else { return }
        try? self.file.writeAll([UInt8](repeating: 0, count: min(count, self.allocated - start)), at: start)
    }

    private static func newEpoch() -> UInt64 {
        Digest.randomBytes(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
    }
}

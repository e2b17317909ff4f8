import Digest
import FileIO
import Foundation

extension ObjectJournal {
    /// Writes out again every object whose record is still in the journal at `path` (the
    /// process stopped before a checkpoint, so the object file may be missing, empty or
    /// partly written), stores their metadata, makes all of it durable, then marks the
    /// journal empty. Records whose body is not in the journal were synced in their own file
    /// before they were answered: only their metadata is restored, if the object exists.
    /// Returns how many records were replayed. Holds the records in memory meanwhile: at most
    /// a checkpoint's worth plus one batch.
    ///
    /// Every record's notification goes into the queue's table (`notifications`), those
    /// already there excepted, before the journal is marked empty; a journal with
    /// notifications and no writer to take them is an error, not a loss.
    static func replay(
        path: String, directory: String, temporaryDirectory: String, metadata: ObjectMetadataTable,
        notifications: JournaledQueueWriter?
    ) throws -> Int {
        guard FileIdentity.of(path: path) != nil else { return 0 }
        // Only a key's last record counts: an earlier one must not overwrite what a later put
        // synced in place.
        var latest: [String: JournalRecord] = [:]
        var journaled: [JournaledNotification] = []
        var epoch: UInt64 = 0
        try self.forEachRecord(at: path) { record in
            latest[record.key] = record
            epoch = record.epoch
            if let notification = record.notification { journaled.append(notification) }
        }
        if !journaled.isEmpty && notifications == nil {
            throw BackendError(
                .unavailable, backend: "filesystem", operation: "open",
                message: "\(path) holds \(journaled.count) queue notifications; open the store with its queue to restore them")
        }
        var entries: [(key: String, metadataJSON: String)] = []
        for record in latest.values {
            // Written by this store, but a key must never reach outside the directory however the file was made.
            guard (try? ObjectKeyPath.validate(record.key)) != nil else { continue }
            let objectPath = "\(directory)/\(record.key)"
            if let body = record.body {
                _ = try FileSystem.makeDirectories(FileSystem.parent(of: objectPath))
                let temp = try FileDescriptor.open(
                    "\(temporaryDirectory)/\(Digest.randomBytes(12).hexString)", flags: O_WRONLY | O_CREAT | O_EXCL)
                try temp.writeAll(body)
                try temp.close()
                try FileSystem.rename(temp.path, to: objectPath)
            } else if FileIdentity.of(path: objectPath) == nil {
                continue
            }
            entries.append((record.key, ObjectMetadataTable.encode(record.metadata)))
        }
        try metadata.store(entries)
        try FileSystem.syncFileSystem(containing: directory)
        // After the objects: a consumer must find the object its notification names.
        if let notifications, !journaled.isEmpty {
            _ = try notifications.applyReplayed(journaled, epoch: epoch)
        }
        let journal = try FileDescriptor.open(path, flags: O_RDWR)
        try self.invalidateFirstRecord(journal)
        try journal.close()
        return entries.count
    }
}

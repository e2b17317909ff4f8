import FileIO
import Foundation

/// One topic file, `<directory>/<route>.jsonl`, appended under an exclusive `flock` so that
/// publishers in several processes take turns, and made idempotent by deduplication id.
///
/// Before appending, the file reads the lines appended since it last looked (by this
/// process or another) and remembers their deduplication ids; a message whose id is
/// among them is not appended again, and its first message id is returned. The ids are
/// remembered for the lines in the last `deduplicationWindow` bytes of the file (on first
/// use, only that tail is read). Appends are whole lines or nothing: after a failed write or
/// fsync the file is cut back to where the batch began, and a torn last line found when
/// reading (a crash of the machine mid-write) is cut off.
final class JSONLTopicFile {
    struct Entry {
        var deduplicationId: String
        var messageId: String
        var line: [UInt8]
    }

    private let descriptor: FileDescriptor
    private let deduplicationWindow: Int
    /// The end of the last whole line read or written.
    private var scannedEnd: Int?
    /// Deduplication id → the offset of its line and its message id.
    private var known: [String: (offset: Int, messageId: String)] = [:]
    /// Known lines in file order, to forget those that leave the window; `firstKept` is the oldest still known.
    private var order: [(offset: Int, deduplicationId: String)] = []
    private var firstKept = 0

    private static let readChunk = 1 << 20

    init(path: String, directory: String, deduplicationWindow: Int) throws {
        self.descriptor = try FileDescriptor.open(path, flags: O_RDWR | O_APPEND | O_CREAT)
        self.deduplicationWindow = deduplicationWindow
        try FileSystem.syncDirectory(directory)
    }

    /// Appends the entries whose deduplication ids the file does not hold yet, fsyncs, and
    /// returns each entry's message id (the earlier one for a repeat).
    func append(_ entries: [Entry]) throws -> [String] {
        _ = try self.descriptor.lockExclusively(wait: true)
        defer { try? self.descriptor.unlock() }
        let start = try self.catchUp()
        var end = start
        var messageIds: [String] = []
        var written: [(offset: Int, deduplicationId: String, messageId: String)] = []
        var inThisBatch: [String: String] = [:]
        for entry in entries {
            if let earlier = self.known[entry.deduplicationId]?.messageId ?? inThisBatch[entry.deduplicationId] {
                messageIds.append(earlier)
                continue
            }
            do {
                try self.descriptor.writeAll(entry.line)
            } catch {
                self.cutBack(to: start)
                throw error
            }
            written.append((end, entry.deduplicationId, entry.messageId))
            inThisBatch[entry.deduplicationId] = entry.messageId
            end += entry.line.count
            messageIds.append(entry.messageId)
        }
        if !written.isEmpty {
            do {
                try self.descriptor.sync()
            } catch {
                self.cutBack(to: start)
                throw error
            }
        }
        for line in written { self.remember(line.deduplicationId, messageId: line.messageId, offset: line.offset) }
        self.scannedEnd = end
        self.forget(before: end - self.deduplicationWindow)
        return messageIds
    }

    /// Cuts a torn last line, then reads the lines appended since the last look; returns the
    /// end of the file.
    private func catchUp() throws -> Int {
        var size = try self.descriptor.size()
        if size > 0, try self.descriptor.read(count: 1, at: size - 1) != [Self.newline] {
            // A last line without its newline: torn by a crash mid-write. Nobody else is
            // writing (we hold the lock), so it is cut off.
            size = try self.endOfLastWholeLine(before: size)
            try self.descriptor.truncate(to: size)
        }
        var offset: Int
        var skipFirstPartialLine = false
        if let scannedEnd = self.scannedEnd, scannedEnd <= size {
            offset = scannedEnd
        } else {
            // First look, or the file was cut shorter by someone: read its tail afresh.
            self.known = [:]
            self.order = []
            self.firstKept = 0
            offset = max(0, size - self.deduplicationWindow)
            skipFirstPartialLine = offset > 0
        }
        var pending: [UInt8] = []
        var pendingOffset = offset
        while offset < size {
            guard let chunk = try self.descriptor.read(count: min(Self.readChunk, size - offset), at: offset) else { break }
            offset += chunk.count
            pending.append(contentsOf: chunk)
            var lineStart = 0
            while let newline = pending[lineStart...].firstIndex(of: Self.newline) {
                if skipFirstPartialLine {
                    skipFirstPartialLine = false
                } else {
                    self.read(line: pending[lineStart..<newline], at: pendingOffset + lineStart)
                }
                lineStart = newline + 1
            }
            pending.removeFirst(lineStart)
            pendingOffset += lineStart
        }
        self.scannedEnd = size
        self.forget(before: size - self.deduplicationWindow)
        return size
    }

    /// The offset just after the last newline before `offset` (0 when there is none).
    private func endOfLastWholeLine(before offset: Int) throws -> Int {
        var end = offset
        while end > 0 {
            let start = max(0, end - Self.readChunk)
            guard let chunk = try self.descriptor.read(count: end - start, at: start) else { return 0 }
            if let newline = chunk.lastIndex(of: Self.newline) { return start + newline + 1 }
            end = start
        }
        return 0
    }

    private static let newline = UInt8(ascii: "\n")

    private func read(line: ArraySlice<UInt8>, at offset: Int) {
        struct Identifiers: Decodable {
            var DeduplicationId: String
            var MessageId: String
        }
        guard let identifiers = try? JSONDecoder().decode(Identifiers.self, from: Data(line)) else { return }
        self.remember(identifiers.DeduplicationId, messageId: identifiers.MessageId, offset: offset)
    }

    private func remember(_ deduplicationId: String, messageId: String, offset: Int) {
        if self.known[deduplicationId] == nil {
            self.known[deduplicationId] = (offset, messageId)
            self.order.append((offset, deduplicationId))
        }
    }

    private func forget(before offset: Int) {
        while self.firstKept < self.order.count, self.order[self.firstKept].offset < offset {
            self.known[self.order[self.firstKept].deduplicationId] = nil
            self.firstKept += 1
        }
        if self.firstKept > 4096, self.firstKept * 2 > self.order.count {
            self.order.removeFirst(self.firstKept)
            self.firstKept = 0
        }
    }

    /// Undoes a batch's partial append; if even that fails the next look cuts the torn line.
    private func cutBack(to offset: Int) {
        try? self.descriptor.truncate(to: offset)
        self.scannedEnd = nil
    }
}

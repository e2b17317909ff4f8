import Digest
import Foundation

/// One put as the object journal stores it, with the queue notification that announces it
/// when the store journals notifications (`JournaledNotification`).
///
/// Layout, integers little-endian:
///
///     "CISJ" | epoch u64 | key length u32 | metadata length u32 | body length u64 | flags u8
///     | key (UTF-8) | metadata (JSON object of strings) | body | MD5 of everything before
///
/// A record with a notification starts with "CISN" instead, and its header goes on with
///
///     | notification id length u32 | notification body length u32
///
/// and the id and body (UTF-8) follow the object's body, before the MD5.
///
/// The epoch tells the records written since the journal was last emptied from older
/// ones further on in the reused file. Flag bit 0 says the body is in the record; without
/// it the body was made durable in its own file before the put was answered, and the
/// record carries only key and metadata.
///
/// `package`, not `public`: the fuzz target `cis-fuzz journal-record` round-trips records.
package struct JournalRecord: Equatable, Sendable {
    package var epoch: UInt64
    package var key: String
    package var metadata: [String: String]
    /// The object's bytes; nil when they are not in the journal.
    package var body: [UInt8]?
    /// The queue notification made durable with the object; nil when it is sent apart.
    package var notification: JournaledNotification?

    package init(epoch: UInt64, key: String, metadata: [String: String], body: [UInt8]?, notification: JournaledNotification? = nil) {
        self.epoch = epoch
        self.key = key
        self.metadata = metadata
        self.body = body
        self.notification = notification
    }

    static let magic: [UInt8] = Array("CISJ".utf8)
    static let notifyingMagic: [UInt8] = Array("CISN".utf8)
    static let headerSize = 4 + 8 + 4 + 4 + 8 + 1
    /// A "CISN" header: `headerSize` and the notification's two lengths.
    static let notifyingHeaderSize = headerSize + 4 + 4
    static let checksumSize = 16
    /// Lengths past these are damage, not data: keys are at most 1024 bytes (`ObjectKeyPath`).
    static let maximumKeyLength = 4096
    static let maximumMetadataLength = 1 << 20
    static let maximumBodyLength = 1 << 32
    static let maximumNotificationIdLength = 256
    /// `SQLiteMessageQueue.maximumBodySize`.
    static let maximumNotificationBodyLength = 262_144

    /// The lengths a header announces; the rest of the record (`payloadSize` bytes) follows it.
    struct Header: Equatable {
        var epoch: UInt64
        var keyLength: Int
        var metadataLength: Int
        var bodyLength: Int
        var hasBody: Bool
        /// The notification's id and body lengths; nil in a "CISJ" record.
        var notificationLengths: (id: Int, body: Int)?

        var size: Int { self.notificationLengths == nil ? JournalRecord.headerSize : JournalRecord.notifyingHeaderSize }

        var payloadSize: Int {
            self.keyLength + self.metadataLength + self.bodyLength + (self.notificationLengths.map { $0.id + $0.body } ?? 0)
                + JournalRecord.checksumSize
        }

        /// How many header bytes a record starting with these (at least 4) has; nil when it is no record.
        static func size(startingWith bytes: ArraySlice<UInt8>) -> Int? {
            if bytes.prefix(4).elementsEqual(JournalRecord.magic) { return JournalRecord.headerSize }
            if bytes.prefix(4).elementsEqual(JournalRecord.notifyingMagic) { return JournalRecord.notifyingHeaderSize }
            return nil
        }

        /// Nil when `bytes` (the whole header, `size(startingWith:)` of them) are not a plausible header.
        init?(_ bytes: ArraySlice<UInt8>) {
            guard bytes.count >= 4, let size = Self.size(startingWith: bytes), bytes.count >= size else { return nil }
            let start = bytes.startIndex
            let flags = bytes[start + 28]
            guard flags & ~1 == 0 else { return nil }
            self.epoch = Self.integer(bytes, at: start + 4, width: 8)
            self.keyLength = Int(Self.integer(bytes, at: start + 12, width: 4))
            self.metadataLength = Int(Self.integer(bytes, at: start + 16, width: 4))
            let bodyLength = Self.integer(bytes, at: start + 20, width: 8)
            self.hasBody = flags & 1 == 1
            guard self.keyLength > 0, self.keyLength <= JournalRecord.maximumKeyLength,
                self.metadataLength <= JournalRecord.maximumMetadataLength,
                bodyLength <= UInt64(JournalRecord.maximumBodyLength), self.hasBody || bodyLength == 0
            else { return nil }
            self.bodyLength = Int(bodyLength)
            if size == JournalRecord.notifyingHeaderSize {
                let id = Int(Self.integer(bytes, at: start + JournalRecord.headerSize, width: 4))
                let body = Int(Self.integer(bytes, at: start + JournalRecord.headerSize + 4, width: 4))
                guard id > 0, id <= JournalRecord.maximumNotificationIdLength, body <= JournalRecord.maximumNotificationBodyLength
                else { return nil }
                self.notificationLengths = (id, body)
            } else {
                self.notificationLengths = nil
            }
        }

        static func == (left: Header, right: Header) -> Bool {
            left.epoch == right.epoch && left.keyLength == right.keyLength && left.metadataLength == right.metadataLength
                && left.bodyLength == right.bodyLength && left.hasBody == right.hasBody
                && left.notificationLengths?.id == right.notificationLengths?.id
                && left.notificationLengths?.body == right.notificationLengths?.body
        }

        private static func integer(_ bytes: ArraySlice<UInt8>, at index: Int, width: Int) -> UInt64 {
            (0..<width).reduce(UInt64(0)) { value, offset in value | UInt64(bytes[index + offset]) << (8 * offset) }
        }
    }

    package func encoded() throws -> [UInt8] {
        Self.encode(
            epoch: self.epoch, key: self.key, metadataJSON: ObjectMetadataTable.encode(self.metadata), body: self.body,
            notification: self.notification)
    }

    /// A record's bytes from metadata already encoded (`ObjectMetadataTable.encode`).
    static func encode(
        epoch: UInt64, key: String, metadataJSON: String, body: [UInt8]?, notification: JournaledNotification? = nil
    ) -> [UInt8] {
        var bytes: [UInt8] = []
        Self.append(epoch: epoch, key: key, metadataJSON: metadataJSON, body: body, notification: notification, to: &bytes)
        return bytes
    }

    /// Appends a record's bytes to `bytes` (a batch's records go into one buffer).
    static func append(
        epoch: UInt64, key: String, metadataJSON: String, body: [UInt8]?, notification: JournaledNotification?,
        to bytes: inout [UInt8]
    ) {
        let start = bytes.count
        let bodyCount = body?.count ?? 0
        let notificationCount = notification.map { $0.messageId.utf8.count + $0.body.utf8.count } ?? 0
        bytes.reserveCapacity(
            start + Self.notifyingHeaderSize + key.utf8.count + metadataJSON.utf8.count + bodyCount + notificationCount
                + Self.checksumSize)
        bytes += notification == nil ? Self.magic : Self.notifyingMagic
        Self.append(epoch, width: 8, to: &bytes)
        Self.append(UInt64(key.utf8.count), width: 4, to: &bytes)
        Self.append(UInt64(metadataJSON.utf8.count), width: 4, to: &bytes)
        Self.append(UInt64(bodyCount), width: 8, to: &bytes)
        bytes.append(body != nil ? 1 : 0)
        if let notification {
            Self.append(UInt64(notification.messageId.utf8.count), width: 4, to: &bytes)
            Self.append(UInt64(notification.body.utf8.count), width: 4, to: &bytes)
        }
        bytes += key.utf8
        bytes += metadataJSON.utf8
        if let body { bytes += body }
        if let notification {
            bytes += notification.messageId.utf8
            bytes += notification.body.utf8
        }
        let checksum = bytes.withUnsafeBytes { Digest.md5(UnsafeRawBufferPointer(rebasing: $0[start...])) }
        bytes += checksum
    }

    /// The record whose header is `header` and whose remaining bytes are `payload`
    /// (`header.payloadSize` of them); nil when the checksum or the contents do not hold.
    static func decode(header: [UInt8], payload: [UInt8]) -> JournalRecord? {
        guard let lengths = Header(header[...]), payload.count == lengths.payloadSize else { return nil }
        let checked = payload.count - Self.checksumSize
        let hasher = DigestHasher(.md5)
        hasher.update(header)
        payload.withUnsafeBytes { hasher.update(UnsafeRawBufferPointer(rebasing: $0[0..<checked])) }
        guard hasher.finalize().elementsEqual(payload[checked...]) else { return nil }
        let keyEnd = lengths.keyLength
        let metadataEnd = keyEnd + lengths.metadataLength
        let bodyEnd = metadataEnd + lengths.bodyLength
        guard let key = String(validating: payload[0..<keyEnd], as: UTF8.self),
            let metadataText = String(validating: payload[keyEnd..<metadataEnd], as: UTF8.self),
            let metadata = try? ObjectMetadataTable.decode(metadataText)
        else { return nil }
        var notification: JournaledNotification?
        if let notificationLengths = lengths.notificationLengths {
            let idEnd = bodyEnd + notificationLengths.id
            guard let messageId = String(validating: payload[bodyEnd..<idEnd], as: UTF8.self),
                let body = String(validating: payload[idEnd..<checked], as: UTF8.self)
            else { return nil }
            notification = JournaledNotification(messageId: messageId, body: body)
        }
        return JournalRecord(
            epoch: lengths.epoch, key: key, metadata: metadata, body: lengths.hasBody ? Array(payload[metadataEnd..<bodyEnd]) : nil,
            notification: notification)
    }

    /// Calls `body` with every record from the start, in order, while they are complete,
    /// intact and of the first one's epoch; `read(count, offset)` gives that many bytes, or
    /// nil past the end. Returns how many bytes the records take.
    @discardableResult
    static func scan(
        read: (_ count: Int, _ offset: Int) throws -> [UInt8]?, _ body: (JournalRecord) throws -> Void
    ) rethrows -> Int {
        var offset = 0
        var epoch: UInt64?
        while let magic = try read(4, offset), let headerSize = Header.size(startingWith: magic[...]),
            let header = try read(headerSize, offset), let lengths = Header(header[...]),
            lengths.epoch == epoch ?? lengths.epoch,
            let payload = try read(lengths.payloadSize, offset + headerSize),
            let record = Self.decode(header: header, payload: payload)
        {
            epoch = record.epoch
            try body(record)
            offset += headerSize + lengths.payloadSize
        }
        return offset
    }

    /// The records `scan` finds at the start of `bytes`, and how many bytes they take.
    package static func decodeAll(_ bytes: [UInt8]) -> (records: [JournalRecord], length: Int) {
        var records: [JournalRecord] = []
        let length = Self.scan(read: { count, offset in
            bytes.count - offset >= count ? Array(bytes[offset..<offset + count]) : nil
        }) { records.append($0) }
        return (records, length)
    }

    private static func append(_ value: UInt64, width: Int, to bytes: inout [UInt8]) {
        for offset in 0..<width { bytes.append(UInt8(truncatingIfNeeded: value >> (8 * offset))) }
    }
}

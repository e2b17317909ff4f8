import Digest
import Foundation

/// One put as the object journal stores it.
///
/// Layout, integers little-endian:
///
///     "CISJ" | epoch u64 | key length u32 | metadata length u32 | body length u64 | flags u8
///     | key (UTF-8) | metadata (JSON object of strings) | body | MD5 of everything before
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

    package init(epoch: UInt64, key: String, metadata: [String: String], body: [UInt8]?) {
        self.epoch = epoch
        self.key = key
        self.metadata = metadata
        self.body = body
    }

    static let magic: [UInt8] = Array("CISJ".utf8)
    static let headerSize = 4 + 8 + 4 + 4 + 8 + 1
    static let checksumSize = 16
    /// Lengths past these are damage, not data: keys are at most 1024 bytes (`ObjectKeyPath`).
    static let maximumKeyLength = 4096
    static let maximumMetadataLength = 1 << 20
    static let maximumBodyLength = 1 << 32

    /// The lengths a header announces; the rest of the record (`payloadSize` bytes) follows it.
    struct Header: Equatable {
        var epoch: UInt64
        var keyLength: Int
        var metadataLength: Int
        var bodyLength: Int
        var hasBody: Bool

        var payloadSize: Int { self.keyLength + self.metadataLength + self.bodyLength + JournalRecord.checksumSize }

        /// Nil when `bytes` (at least `headerSize` of them) are not a plausible header.
        init?(_ bytes: ArraySlice<UInt8>) {
            guard bytes.count >= JournalRecord.headerSize, bytes.prefix(4).elementsEqual(JournalRecord.magic) else { return nil }
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
        }

        private static func integer(_ bytes: ArraySlice<UInt8>, at index: Int, width: Int) -> UInt64 {
            (0..<width).reduce(UInt64(0)) { value, offset in value | UInt64(bytes[index + offset]) << (8 * offset) }
        }
    }

    package func encoded() throws -> [UInt8] {
        Self.encode(epoch: self.epoch, key: self.key, metadataJSON: try ObjectMetadataTable.encode(self.metadata), body: self.body)
    }

    /// A record's bytes from metadata already encoded (`ObjectMetadataTable.encode`).
    static func encode(epoch: UInt64, key: String, metadataJSON: String, body: [UInt8]?) -> [UInt8] {
        let metadata = Array(metadataJSON.utf8)
        let key = Array(key.utf8)
        let hasBody = body != nil
        let body = body ?? []
        var bytes = Self.magic
        bytes.reserveCapacity(Self.headerSize + key.count + metadata.count + body.count + Self.checksumSize)
        Self.append(epoch, width: 8, to: &bytes)
        Self.append(UInt64(key.count), width: 4, to: &bytes)
        Self.append(UInt64(metadata.count), width: 4, to: &bytes)
        Self.append(UInt64(body.count), width: 8, to: &bytes)
        bytes.append(hasBody ? 1 : 0)
        bytes += key
        bytes += metadata
        bytes += body
        bytes += Digest.md5(bytes)
        return bytes
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
        guard let key = String(validating: payload[0..<keyEnd], as: UTF8.self),
            let metadata = try? ObjectMetadataTable.decode(Data(payload[keyEnd..<metadataEnd]))
        else { return nil }
        return JournalRecord(
            epoch: lengths.epoch, key: key, metadata: metadata, body: lengths.hasBody ? Array(payload[metadataEnd..<checked]) : nil)
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
        while let header = try read(Self.headerSize, offset), let lengths = Header(header[...]),
            lengths.epoch == epoch ?? lengths.epoch,
            let payload = try read(lengths.payloadSize, offset + Self.headerSize),
            let record = Self.decode(header: header, payload: payload)
        {
            epoch = record.epoch
            try body(record)
            offset += Self.headerSize + lengths.payloadSize
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

import Backends

/// The object journal's record codec (`JournalRecord`).
///
/// Invariants:
/// - Any bytes: `decodeAll` reads only within them (ASan and Swift's bounds checks), reports a
///   length within them, and what it finds are records of one epoch with a non-empty key
///   that re-encode to records decoding to the same values.
/// - A record built from the input: encode then decode gives it back, followed by other
///   bytes too; every truncation of its bytes decodes to nothing (all cuts near either end,
///   a sample between), and so does a copy with one byte changed (damage is rejected, never
///   misread).
enum JournalRecordTarget {
    static func run(_ data: [UInt8]) {
        let found = JournalRecord.decodeAll(data)
        require(found.length <= data.count, "decodeAll reports \(found.length) of \(data.count) bytes")
        require(found.records.count * 45 <= found.length, "\(found.records.count) records in \(found.length) bytes")
        if let epoch = found.records.first?.epoch {
            require(found.records.allSatisfy { $0.epoch == epoch && !$0.key.isEmpty }, "records of several epochs or an empty key")
        }
        guard let reencoded = try? found.records.flatMap({ try $0.encoded() }) else {
            require(false, "a decoded record does not encode")
            return
        }
        let again = JournalRecord.decodeAll(reencoded)
        require(again.records == found.records && again.length == reencoded.count, "decoded records do not round-trip")

        var input = FuzzInput(data)
        let epoch = UInt64(input.byte()) << 32 | UInt64(input.byte())
        let keyBytes = input.bytes(upTo: Int(input.byte() % 64) + 1)
        // Keys are never empty (`ObjectKeyPath`); the codec rejects an empty one as damage.
        let key = keyBytes.isEmpty ? "k" : String(decoding: keyBytes, as: UTF8.self)
        var metadata: [String: String] = [:]
        for _ in 0..<Int(input.byte() % 4) {
            let name = String(decoding: input.bytes(upTo: Int(input.byte() % 16)), as: UTF8.self)
            metadata[name] = String(decoding: input.bytes(upTo: Int(input.byte() % 32)), as: UTF8.self)
        }
        let damageAt = Int(input.byte()) << 8 | Int(input.byte())
        let damage = input.byte() | 1
        let hasBody = input.bool()
        let record = JournalRecord(epoch: epoch, key: key, metadata: metadata, body: hasBody ? input.rest() : nil)
        guard let bytes = try? record.encoded() else {
            require(false, "record \(record) does not encode")
            return
        }
        let decoded = JournalRecord.decodeAll(bytes + data)
        require(decoded.records.first == record, "\(record) decodes to \(String(describing: decoded.records.first))")
        require(JournalRecord.decodeAll(bytes).length == bytes.count, "a record's length is not its encoding's")

        // Every cut in the header and the first bytes after it, every cut near the end, and a
        // sample between (all cuts past the header fail the same way: the record is short).
        let cuts = Set(Array(0..<min(bytes.count, 64)) + Array(max(0, bytes.count - 64)..<bytes.count) + stride(from: 0, to: bytes.count, by: 53))
        for cut in cuts {
            require(JournalRecord.decodeAll(Array(bytes[..<cut])).records.isEmpty, "a record cut at \(cut) of \(bytes.count) decodes")
        }
        var damaged = bytes
        damaged[damageAt % bytes.count] ^= damage
        require(
            JournalRecord.decodeAll(damaged).records.isEmpty,
            "a record with byte \(damageAt % bytes.count) of \(bytes.count) changed decodes")
    }
}

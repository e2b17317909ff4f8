import Notifications

/// The object store's reading connection to `ObjectMetadataTable`'s table (`object_metadata`,
/// each row's metadata a JSON object of strings), read with `JSONValueReader`: Foundation's
/// `JSONDecoder` cost more per fetch than reading the object's file. Used by one pool job at a
/// time (the store's reader queue).
final class ObjectMetadataReader {
    private let database: SQLiteDatabase
    private let select: SQLiteDatabase.Statement

    struct Malformed: Error, CustomStringConvertible {
        var description: String
    }

    /// Opens `path`, whose table the writer's `ObjectMetadataTable` has created.
    init(path: String) throws {
        self.database = try SQLiteDatabase(path: path)
        self.select = try self.database.prepare("SELECT metadata FROM object_metadata WHERE key = ?1")
    }

    /// The key's metadata; empty when none was stored.
    func metadata(for key: String) throws -> [String: String] {
        try self.select.bind([.text(key)])
        defer { self.select.reset() }
        guard try self.select.step(), let json = self.select.text(0) else { return [:] }
        return try Self.decode(json)
    }

    /// A JSON object of strings, as `ObjectMetadataTable.encode` writes it.
    static func decode(_ json: String) throws -> [String: String] {
        guard case .object(let object) = try JSONValueReader.read(json) else { throw Malformed(description: "metadata is not a JSON object") }
        var metadata: [String: String] = [:]
        metadata.reserveCapacity(object.members.count)
        for member in object.members {
            guard case .string(let value) = member.value else { throw Malformed(description: "metadata \(member.key) is not a string") }
            metadata[member.key] = value
        }
        return metadata
    }
}

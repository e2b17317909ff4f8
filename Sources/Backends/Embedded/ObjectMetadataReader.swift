/// The object store's reading connection to `ObjectMetadataTable`'s table (`object_metadata`);
/// each row decoded by `ObjectMetadataTable.decode`. Used by one pool job at a time (the
/// store's reader queue).
final class ObjectMetadataReader {
    private let database: SQLiteDatabase
    private let select: SQLiteDatabase.Statement

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
        return try ObjectMetadataTable.decode(json)
    }
}

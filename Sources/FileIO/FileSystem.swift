#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Operations on paths: directories, renames, removals, whole-file-system syncs.
/// Every call blocks (see `FileDescriptor`).
public enum FileSystem {
    /// fsyncs a directory, making the renames and creations inside it durable.
    public static func syncDirectory(_ path: String) throws {
        let directory = try FileDescriptor.openDirectory(path)
        try directory.sync()
        try directory.close()
    }

    /// `syncfs(2)` on the file system holding `path`: every file's data and metadata on it,
    /// written back and flushed in one call (errors of writeback reported since Linux 5.8).
    public static func syncFileSystem(containing path: String) throws {
        let directory = try FileDescriptor.openDirectory(path)
        try directory.syncFileSystem()
        try directory.close()
    }

    /// Creates `path` if missing. Returns whether it was created (its parent then needs an fsync).
    @discardableResult
    public static func makeDirectory(_ path: String) throws -> Bool {
        if path.withCString({ mkdir($0, 0o750) }) == 0 { return true }
        let code = errno
        guard code == EEXIST else { throw SystemCallError("mkdir", path: path, code: code) }
        var info = stat()
        guard stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR else {
            throw SystemCallError("mkdir", path: path, code: ENOTDIR)
        }
        return false
    }

    /// Creates `path` and any missing parents; returns the parents whose entries changed.
    public static func makeDirectories(_ path: String) throws -> [String] {
        var changedParents: [String] = []
        var current = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            let parent = current.isEmpty ? "/" : current
            current = current.isEmpty ? "/\(component)" : "\(current)/\(component)"
            if try self.makeDirectory(current) { changedParents.append(parent) }
        }
        return changedParents
    }

    public static func rename(_ from: String, to destination: String) throws {
        guard Glibc.rename(from, destination) == 0 else { throw SystemCallError("rename", path: destination) }
    }

    public static func removeFile(_ path: String) {
        _ = unlink(path)
    }

    public static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }
}

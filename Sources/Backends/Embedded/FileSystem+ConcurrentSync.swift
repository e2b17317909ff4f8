import BlockingWork
import FileIO

extension FileSystem {
    /// `fdatasync`s every file and returns each one's error. Writeback of all of them is
    /// started first, so that their blocks are allocated in one journal transaction: the
    /// first sync commits it, and the syncs after it, run on several pool threads at once,
    /// find little left to wait for.
    static func dataSyncAll(_ files: [FileDescriptor]) -> [(any Error)?] {
        for file in files { file.startWriteback() }
        let shared = SharedFiles(files)
        return BlockingPool.forEachConcurrently(files.count) { try shared.files[$0].dataSync() }
    }

    /// fsyncs every directory at once; returns the ones that failed with their error.
    static func syncDirectories(_ paths: [String]) -> [String: any Error] {
        let errors = BlockingPool.forEachConcurrently(paths.count) { try self.syncDirectory(paths[$0]) }
        var failed: [String: any Error] = [:]
        for (path, error) in zip(paths, errors) where error != nil { failed[path] = error }
        return failed
    }

    /// Hands the files to the threads that sync them.
    private struct SharedFiles: @unchecked Sendable {
        // @unchecked: each file is used by the one thread that takes its index, while the
        // caller waits for all of them and touches none.
        let files: [FileDescriptor]
        init(_ files: [FileDescriptor]) { self.files = files }
    }
}

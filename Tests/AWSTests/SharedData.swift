import Foundation
import Testing

/// Third-party sample data in the shared directory: `$CIS_SHARED_DIR`, else `<package root>/../shared`.
enum SharedData {
    static func directory(_ relative: String, filePath: String = #filePath) throws -> URL {
        let base: URL
        if let configured = ProcessInfo.processInfo.environment["CIS_SHARED_DIR"], !configured.isEmpty {
            base = URL(fileURLWithPath: configured)
        } else {
            // <root>/Tests/AWSTests/SharedData.swift -> <root>/../shared
            base = URL(fileURLWithPath: filePath)
                .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent().appendingPathComponent("shared")
        }
        let directory = base.appendingPathComponent(relative)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            Issue.record("shared test data not found at \(directory.path): set CIS_SHARED_DIR to the shared directory")
            throw SharedDataMissing(path: directory.path)
        }
        return directory
    }

    struct SharedDataMissing: Error, CustomStringConvertible {
        var path: String
        var description: String { "shared test data not found at \(self.path) (set CIS_SHARED_DIR)" }
    }
}

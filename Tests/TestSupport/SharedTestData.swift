import Foundation
import Testing

/// Third-party data kept outside the repository (the iMIP corpus, AWS's SigV4 test suite):
/// `$CIS_SHARED_DIR`, else `<package root>/../shared`.
///
/// A fresh clone has no such directory, so the tests that read it carry the `.sharedData(_:)`
/// trait and are skipped there. Under CI (`CI=true`) they always run, so that missing data is a
/// failure there, never a silent skip. `scripts/test.sh` applies the same rule.
public enum SharedTestData {
    /// The shared directory, whether or not it exists.
    public static var root: URL {
        if let configured = ProcessInfo.processInfo.environment["CIS_SHARED_DIR"], !configured.isEmpty {
            return URL(fileURLWithPath: configured)
        }
        // <root>/Tests/TestSupport/SharedTestData.swift -> <root>/../shared
        return URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent()  // TestSupport
            .deletingLastPathComponent()  // Tests
            .deletingLastPathComponent()  // package root
            .deletingLastPathComponent()
            .appendingPathComponent("shared")
    }

    /// Whether the environment says this is a CI run (`CI=true`).
    public static var isCI: Bool {
        ProcessInfo.processInfo.environment["CI"] == "true"
    }

    /// `root/relative` when it is a directory.
    public static func existingDirectory(_ relative: String) -> URL? {
        let directory = self.root.appendingPathComponent(relative)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory), isDirectory.boolValue
        else { return nil }
        return directory
    }

    /// `root/relative`; throws, naming where it looked, when it is missing.
    public static func directory(_ relative: String) throws -> URL {
        guard let directory = self.existingDirectory(relative) else {
            throw Missing(path: self.root.appendingPathComponent(relative).path)
        }
        return directory
    }

    public struct Missing: Error, CustomStringConvertible {
        public var path: String
        public var description: String {
            "shared test data not found at \(self.path): set CIS_SHARED_DIR to the shared directory"
        }
    }
}

extension Trait where Self == ConditionTrait {
    /// Runs the test or suite when `relative` is present in the shared directory, and always
    /// under CI (where its absence then fails the test); skips it otherwise.
    public static func sharedData(_ relative: String) -> Self {
        .enabled(
            if: SharedTestData.isCI || SharedTestData.existingDirectory(relative) != nil,
            Comment(rawValue: "needs \(relative) in CIS_SHARED_DIR (default ../shared)"))
    }
}

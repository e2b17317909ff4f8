import Foundation

/// Where the tests find their data.
enum FixturePaths {
    /// Tests/InvitesTests/Fixtures of this package.
    static var fixtures: URL {
        URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent()  // Support
            .deletingLastPathComponent()  // InvitesTests
            .appendingPathComponent("Fixtures")
    }

    /// The third-party corpus: $CIS_SHARED_DIR/corpus/imip, by default <package root>/../shared/corpus/imip.
    static var corpus: URL {
        let shared: URL
        if let configured = ProcessInfo.processInfo.environment["CIS_SHARED_DIR"], !configured.isEmpty {
            shared = URL(fileURLWithPath: configured)
        } else {
            shared = URL(fileURLWithPath: #filePath)
                .deletingLastPathComponent()  // Support
                .deletingLastPathComponent()  // InvitesTests
                .deletingLastPathComponent()  // Tests
                .deletingLastPathComponent()  // package root
                .deletingLastPathComponent()
                .appendingPathComponent("shared")
        }
        return shared.appendingPathComponent("corpus").appendingPathComponent("imip")
    }
}

import Foundation
import TestSupport

/// Where the tests find their data.
enum FixturePaths {
    /// Tests/InvitesTests/Fixtures of this package.
    static var fixtures: URL {
        URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent()  // Support
            .deletingLastPathComponent()  // InvitesTests
            .appendingPathComponent("Fixtures")
    }

    /// The third-party corpus, `corpus/imip` of the shared directory (see `SharedTestData`);
    /// tests that read it carry `.sharedData(FixturePaths.corpusDirectory)`.
    static let corpusDirectory = "corpus/imip"

    static func corpus() throws -> URL {
        try SharedTestData.directory(Self.corpusDirectory)
    }
}

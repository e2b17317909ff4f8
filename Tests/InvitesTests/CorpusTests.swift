import Foundation
import Invites
import TestSupport
import Testing

/// Every message of the third-party corpus against expectations written by reading each file.
/// Skipped where the shared data is absent (a fresh clone), except under CI.
@Suite("Corpus", .sharedData(FixturePaths.corpusDirectory))
struct CorpusTests {
    static let expectationsURL = FixturePaths.fixtures.appendingPathComponent("corpus-expected.json")

    static func expectations() throws -> [Expectation] {
        try Expectation.load(Self.expectationsURL)
    }

    @Test("the corpus directory is present")
    func corpusIsPresent() throws {
        _ = try FixturePaths.corpus()
    }

    @Test("every corpus file has an expectation")
    func everyFileIsCovered() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: FixturePaths.corpus().path)
            .filter { $0 != "SOURCES.md" && !$0.hasPrefix(".") }
        let covered = Set(try Self.expectations().map(\.file))
        let uncovered = files.filter { !covered.contains($0) }.sorted()
        #expect(uncovered.isEmpty, "no expectation for \(uncovered)")
    }

    @Test("message matches its expectation", arguments: try CorpusTests.expectations())
    func messageMatchesExpectation(_ expectation: Expectation) throws {
        let message = try expectation.message(in: FixturePaths.corpus())
        let input = InviteInput(
            message: message, bucket: "corpus", key: "incoming/" + expectation.testDescription,
            envelopeSender: "envelope@example.net")
        let problems = expectation.mismatches(with: InviteParser.parse(input))
        #expect(problems.isEmpty, "\(expectation.testDescription): \(problems.joined(separator: "; "))")
    }
}

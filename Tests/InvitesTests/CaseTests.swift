import Foundation
import Invites
import Testing

/// Hand-written messages under Fixtures/cases against Fixtures/cases/expected.json.
@Suite("Cases")
struct CaseTests {
    static let directory = FixturePaths.fixtures.appendingPathComponent("cases")

    static func expectations() throws -> [Expectation] {
        try Expectation.load(Self.directory.appendingPathComponent("expected.json"))
    }

    @Test("every case file has an expectation")
    func everyCaseIsCovered() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.directory.path)
            .filter { $0 != "expected.json" && $0 != "README.md" && !$0.hasPrefix(".") }
        let covered = Set(try Self.expectations().map(\.file))
        let uncovered = files.filter { !covered.contains($0) }.sorted()
        #expect(uncovered.isEmpty, "no expectation for \(uncovered)")
    }

    @Test("case matches its expectation", arguments: try CaseTests.expectations())
    func caseMatchesExpectation(_ expectation: Expectation) throws {
        let message = try expectation.message(in: Self.directory)
        let input = InviteInput(
            message: message, bucket: "cases", key: "incoming/" + expectation.testDescription,
            envelopeSender: "envelope@example.net")
        let problems = expectation.mismatches(with: InviteParser.parse(input))
        #expect(problems.isEmpty, "\(expectation.testDescription): \(problems.joined(separator: "; "))")
    }
}

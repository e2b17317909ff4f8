import Backends
import TestSupport
import Testing

@Suite("Event indexes")
struct SQLiteEventIndexTests {
    @Test("a recorded UID is known, also after reopening; others are not")
    func recordAndReopen() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("events.sqlite")
        do {
            let index = try SQLiteEventIndex(path: path)
            #expect(try await index.isKnown(uid: "uid-1@example.com") == false)
            try await index.recordCreated(uid: "uid-1@example.com")
            try await index.recordCreated(uid: "uid-1@example.com")
            #expect(try await index.isKnown(uid: "uid-1@example.com") == true)
        }
        let reopened = try SQLiteEventIndex(path: path)
        #expect(try await reopened.isKnown(uid: "uid-1@example.com") == true)
        #expect(try await reopened.isKnown(uid: "uid-2@example.com") == false)
    }

    @Test("NoEventIndex has no opinion")
    func noIndex() async throws {
        let index = NoEventIndex()
        try await index.recordCreated(uid: "x")
        #expect(try await index.isKnown(uid: "x") == nil)
    }
}

@testable import Backends
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

    @Test("the creating domain is recorded with the UID; the first record stays")
    func creatingDomain() async throws {
        let directory = try TemporaryDirectory()
        let index = try SQLiteEventIndex(path: directory.file("events.sqlite"))
        #expect(try await index.creatingDomain(uid: "uid-1") == nil)
        try await index.recordCreated(uid: "uid-1", creatingDomain: "example.com")
        try await index.recordCreated(uid: "uid-1", creatingDomain: "evil.example")
        try await index.recordCreated(uid: "uid-2")
        #expect(try await index.creatingDomain(uid: "uid-1") == "example.com")
        #expect(try await index.creatingDomain(uid: "uid-2") == nil)
        #expect(try await index.isKnown(uid: "uid-2") == true)
    }

    @Test("an index from before the creating domain gets the column; its UIDs stay known, with no creator")
    func migration() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("events.sqlite")
        do {
            let old = try SQLiteDatabase(path: path)
            try old.execute(
                """
                CREATE TABLE events (uid TEXT PRIMARY KEY, created_at INTEGER NOT NULL);
                INSERT INTO events (uid, created_at) VALUES ('old-uid', 1);
                """)
        }
        let index = try SQLiteEventIndex(path: path)
        #expect(try await index.isKnown(uid: "old-uid") == true)
        #expect(try await index.creatingDomain(uid: "old-uid") == nil)
        try await index.recordCreated(uid: "new-uid", creatingDomain: "example.com")
        #expect(try await index.creatingDomain(uid: "new-uid") == "example.com")
        let reopened = try SQLiteEventIndex(path: path)
        #expect(try await reopened.creatingDomain(uid: "new-uid") == "example.com")
    }

    @Test("NoEventIndex has no opinion")
    func noIndex() async throws {
        let index = NoEventIndex()
        try await index.recordCreated(uid: "x", creatingDomain: "example.com")
        #expect(try await index.isKnown(uid: "x") == nil)
        #expect(try await index.creatingDomain(uid: "x") == nil)
    }
}

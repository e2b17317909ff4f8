import Digest

/// Names for the store's temp files: a random prefix drawn once, then a counter. Unique for
/// the writer's lifetime (one writer per store, and `.tmp` is emptied when it opens) without
/// drawing random bytes per file.
final class TemporaryFileNames: Sendable {
    private let directory: String
    private let prefix = Digest.randomBytes(8).hexString
    private let counter = LockedCounter()

    init(directory: String) {
        self.directory = directory
    }

    func next() -> String {
        "\(self.directory)/\(self.prefix)-\(self.counter.next())"
    }
}

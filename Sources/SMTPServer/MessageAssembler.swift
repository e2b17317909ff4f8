import NIOCore
import SMTPCore

/// Collects the text of one message: in memory up to `memoryLimit` octets, in a spool file
/// beyond, so a large message never sits in memory whole. Not `Sendable`: one connection's.
struct MessageAssembler {
    let spoolDirectory: String
    let memoryLimit: Int

    private var memory: [UInt8] = []
    private var spoolFile: SpoolFile?
    /// The first spool failure; the message is then refused when it completes.
    private var failure: (any Error)?

    init(spoolDirectory: String, memoryLimit: Int) {
        self.spoolDirectory = spoolDirectory
        self.memoryLimit = memoryLimit
    }

    mutating func append(_ text: ByteBuffer) {
        guard self.failure == nil else { return }
        do {
            if self.spoolFile == nil && self.memory.count + text.readableBytes > self.memoryLimit {
                let file = try SpoolFile(directory: self.spoolDirectory)
                self.spoolFile = file
                try self.memory.withUnsafeBytes { try file.write($0) }
                self.memory = []
            }
            if let file = self.spoolFile {
                try text.withUnsafeReadableBytes { try file.write($0) }
            } else {
                self.memory.append(contentsOf: text.readableBytesView)
            }
        } catch {
            self.failure = error
        }
    }

    /// The complete text, or the error that kept it from being stored. The spool file (if
    /// any) stays until `discard()`.
    mutating func finish() -> Result<MessageContent, any Error> {
        if let failure = self.failure {
            return .failure(failure)
        }
        if let file = self.spoolFile {
            file.close()
            return .success(.spooled(path: file.path, size: file.size))
        }
        return .success(.memory(self.memory))
    }

    /// Forgets the message and deletes its spool file.
    mutating func discard() {
        self.spoolFile?.remove()
        self.spoolFile = nil
        self.memory = []
        self.failure = nil
    }
}

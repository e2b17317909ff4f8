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

    mutating func append(_ text: ByteBuffer) async {
        guard self.failure == nil else { return }
        do {
            if self.spoolFile == nil && self.memory.count + text.readableBytes > self.memoryLimit {
                let file = try await SpoolFile.create(in: self.spoolDirectory)
                self.spoolFile = file
                try await file.write(self.memory)
                self.memory = []
            }
            if let file = self.spoolFile {
                try await file.write(text)
            } else {
                self.memory.append(contentsOf: text.readableBytesView)
            }
        } catch {
            self.failure = error
        }
    }

    /// The complete text, or the error that kept it from being stored. The spool file (if
    /// any) stays until `discard()`.
    mutating func finish() async -> Result<MessageContent, any Error> {
        if let failure = self.failure {
            return .failure(failure)
        }
        if let file = self.spoolFile {
            await file.close()
            return .success(.spooled(path: file.path, size: file.size))
        }
        return .success(.memory(self.memory))
    }

    /// Forgets the message and deletes its spool file.
    mutating func discard() async {
        await self.spoolFile?.remove()
        self.spoolFile = nil
        self.memory = []
        self.failure = nil
    }
}

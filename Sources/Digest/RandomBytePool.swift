import Foundation

/// Cryptographically random bytes for ids and names, drawn from OpenSSL's `RAND_bytes` a
/// block at a time and handed out once each. `RAND_bytes` checks for a fork with a
/// `getpid` system call on every call; a message needs four ids, so drawing per id cost
/// four system calls per message. cis never runs Swift code in a forked child without
/// `exec`, so no child can hand out the same bytes again.
final class RandomBytePool: @unchecked Sendable {
    // @unchecked: `block` and `next` are only touched with `lock` held.
    static let shared = RandomBytePool()
    static let largestDraw = 64
    private static let blockSize = 4096

    private let lock = NSLock()
    private var block: [UInt8] = []
    private var next = 0

    func take(_ count: Int) -> [UInt8] {
        precondition(count >= 0 && count <= Self.largestDraw)
        self.lock.lock()
        defer { self.lock.unlock() }
        if self.next + count > self.block.count {
            self.block = Digest.randomBytesFromOpenSSL(Self.blockSize)
            self.next = 0
        }
        let bytes = Array(self.block[self.next..<self.next + count])
        // Handed out bytes are not kept in memory.
        for index in self.next..<self.next + count { self.block[index] = 0 }
        self.next += count
        return bytes
    }
}

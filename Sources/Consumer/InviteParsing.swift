import Dispatch
import Invites

enum InviteParsing {
    /// Runs the CPU-bound parse on a Dispatch worker thread, so a large message does not hold
    /// a thread of Swift's cooperative pool.
    static func parse(_ input: InviteInput) async -> InviteParseResult {
        await withCheckedContinuation { continuation in
            DispatchQueue.global(qos: .utility).async {
                continuation.resume(returning: InviteParser.parse(input))
            }
        }
    }
}

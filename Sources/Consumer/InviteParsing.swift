import BlockingWork
import Invites

enum InviteParsing {
    /// Runs the CPU-bound parse (GMime, libical) on the blocking pool, so a large message
    /// does not hold a thread of Swift's cooperative pool.
    static func parse(_ input: InviteInput) async -> InviteParseResult {
        await BlockingPool.run { InviteParser.parse(input) }
    }
}

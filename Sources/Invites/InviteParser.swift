/// Turns one stored message into event requests: pure, no I/O.
public enum InviteParser {
    public static func parse(_ input: InviteInput) -> InviteParseResult {
        .failure(InviteFailure(
            reason: "invite parsing is not implemented yet", requestId: input.requestId,
            mailto: input.envelopeSender, returnPath: input.envelopeSender,
            bucket: input.bucket, key: input.key))
    }
}

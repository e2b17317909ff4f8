import Invites

/// The invite parser: GMime's part finding (`invite-mime`: the input is a message) and the
/// libical interpreter (`invite-calendar`: the input is an iCalendar object given bare, as
/// `cis parse invite.ics` does, so every execution reaches libical).
///
/// Invariants: parsing never crashes (ASan sees heap errors inside GMime and libical too,
/// through its malloc interposition); it is deterministic; a failure or an ignored message
/// carries a non-empty reason and the request id; requests are not empty and each has a
/// method, the request id and the object's bucket and key.
enum InviteTargets {
    static func runMIME(_ data: [UInt8]) {
        Self.check(data)
    }

    static func runCalendar(_ data: [UInt8]) {
        let marker = Array("BEGIN:VCALENDAR".utf8)
        Self.check(data.starts(with: marker) ? data : marker + [0x0D, 0x0A] + data)
    }

    private static func check(_ message: [UInt8]) {
        let input = InviteInput(message: message, bucket: "cis-fuzz", key: "inbound/01FUZZ", envelopeSender: "sender@example.org")
        let result = InviteParser.parse(input)
        switch result {
        case .requests(let requests):
            require(!requests.isEmpty, "requests without a request")
            for request in requests {
                require(!request.method.isEmpty, "a request without a method")
                require(request.requestId == "01FUZZ" && request.bucket == "cis-fuzz" && request.key == "inbound/01FUZZ", "a request lost its origin")
            }
        case .failure(let failure):
            require(!failure.reason.isEmpty, "a failure without a reason")
            require(failure.requestId == "01FUZZ", "a failure lost its request id")
        case .ignored(let reason):
            require(!reason.isEmpty, "ignored without a reason")
        }
        let again = InviteParser.parse(input)
        require(Self.same(result, again), "parsing the same message twice gave different results")
    }

    private static func same(_ first: InviteParseResult, _ second: InviteParseResult) -> Bool {
        switch (first, second) {
        case (.requests(let a), .requests(let b)): a == b
        case (.failure(let a), .failure(let b)): a == b
        case (.ignored(let a), .ignored(let b)): a == b
        default: false
        }
    }
}

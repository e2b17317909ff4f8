import SMTPCore
import Testing

@Suite struct RecipientPolicyTests {
    let policy = RecipientPolicy(addresses: ["create@localhost", "Invites@Example.COM"])

    @Test(arguments: [
        ("create", "localhost", RecipientPolicy.Verdict.accepted),
        ("create", "LOCALHOST", .accepted),
        ("CREATE", "localhost", .accepted),
        ("create+team-a", "localhost", .accepted),
        ("invites", "example.com", .accepted),
        ("invites+x+y", "Example.Com", .accepted),
        ("creat", "localhost", .unknownUser),
        ("createx", "localhost", .unknownUser),
        ("+create", "localhost", .unknownUser),
        ("create", "example.com", .unknownUser),
        ("create", "other.example", .relayDenied),
        ("create", "localhost.example", .relayDenied),
        ("create", "sub.localhost", .relayDenied),
    ])
    func verdict(localPart: String, domain: String, expected: RecipientPolicy.Verdict) {
        #expect(self.policy.verdict(for: Mailbox(localPart: localPart, domain: domain)) == expected)
    }

    @Test func domainsAreLowerCased() {
        #expect(self.policy.domains == ["localhost", "example.com"])
    }
}

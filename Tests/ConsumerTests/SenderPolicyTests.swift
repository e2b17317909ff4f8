import Consumer
import Invites
import Notifications
import SenderAuthentication
import Testing

/// The policy's decisions, from values alone.
@Suite("Sender policy")
struct SenderPolicyTests {
    /// Organizational domains for these tests: the last two labels, three under `co.uk`.
    static let organizationalDomain: @Sendable (String) -> String = { domain in
        let labels = domain.split(separator: ".")
        let count = domain.hasSuffix(".co.uk") ? 3 : 2
        return labels.suffix(count).joined(separator: ".")
    }

    static func policy(_ mode: SenderPolicyMode) -> SenderPolicy {
        SenderPolicy(mode: mode, organizationalDomain: Self.organizationalDomain)
    }

    static func report(from address: String, authenticated: Bool, arc: ARCCheck = .absent) -> SenderAuthenticationReport {
        let domain = String(address.split(separator: "@").last ?? "")
        return SenderAuthenticationReport(
            spf: SPFCheck(result: authenticated ? .pass : .fail, identityKind: "mailfrom", identity: address, domain: domain),
            dkim: authenticated ? [DKIMSignatureCheck(result: .pass, domain: domain, selector: "s1", algorithm: "rsa-sha256")] : [],
            dmarc: DMARCCheck(result: authenticated ? .pass : .fail, fromDomain: domain, organizationalDomain: domain, policy: .reject),
            arc: arc, fromAddress: address, fromDomain: domain, clientAddress: "192.0.2.7", senderAuthenticated: authenticated,
            authenticatedDomains: authenticated ? [domain] : [])
    }

    static func request(
        _ method: String = "request", organizer: String? = "alice@example.com", sentBy: String? = nil, attendees: [String] = []
    ) -> EventRequest {
        EventRequest(
            method: method, requestId: "r1", originalUID: "uid-1@example.com", sequence: 0,
            organizer: organizer.map { EventOrganizer(email: $0, name: nil, sentBy: sentBy) },
            attendees: attendees.map { EventAttendee(email: $0, name: nil, partstat: "ACCEPTED", role: "REQ-PARTICIPANT", rsvp: false) })
    }

    static func isRefused(_ decision: SenderPolicy.Decision, saying words: String) -> Bool {
        if case .refuse(let reason) = decision { return reason.contains(words) }
        return false
    }

    @Test("report accepts everything, a forged sender too, and always lets notices go out")
    func reportMode() {
        let policy = Self.policy(.report)
        let forged = Self.report(from: "mallory@evil.example", authenticated: false)
        for route in [Route.create, .update, .cancel, .reply] {
            #expect(policy.decide(Self.request(), route: route, creatingDomain: "example.com", report: forged) == .accept)
        }
        #expect(policy.mayNotify(forged))
    }

    @Test("enforce: the organizer's own authenticated domain may create, update and cancel")
    func organizerAccepted() {
        let policy = Self.policy(.enforce)
        let report = Self.report(from: "alice@example.com", authenticated: true)
        #expect(policy.organizerMatchesSender(Self.request(), report))
        for route in [Route.create, .update, .cancel] {
            #expect(policy.decide(Self.request(), route: route, creatingDomain: "example.com", report: report) == .accept)
        }
        #expect(policy.creatingDomain(report) == "example.com")
        #expect(policy.mayNotify(report))
    }

    @Test("enforce: an unauthenticated sender is refused, with the verdicts in the reason, and not notified")
    func unauthenticatedRefused() {
        let policy = Self.policy(.enforce)
        let forged = Self.report(from: "alice@example.com", authenticated: false)
        let decision = policy.decide(Self.request("cancel"), route: .cancel, creatingDomain: nil, report: forged)
        #expect(Self.isRefused(decision, saying: "could not be verified: mail from example.com did not pass DMARC (SPF fail"))
        #expect(!policy.mayNotify(forged))
        #expect(!policy.organizerMatchesSender(Self.request(), forged))
        #expect(policy.creatingDomain(forged) == nil)
    }

    @Test("enforce: an organizer outside the sender's organizational domain is refused; SENT-BY inside it is accepted")
    func organizerMismatch() {
        let policy = Self.policy(.enforce)
        let report = Self.report(from: "mallory@evil.example", authenticated: true)
        let decision = policy.decide(Self.request(), route: .create, creatingDomain: nil, report: report)
        #expect(Self.isRefused(decision, saying: "organizer alice@example.com is not in the sender's verified domain evil.example"))
        let delegated = Self.request(sentBy: "assistant@evil.example")
        #expect(policy.organizerMatchesSender(delegated, report))
        #expect(policy.decide(delegated, route: .create, creatingDomain: nil, report: report) == .accept)
        let noOrganizer = Self.request(organizer: nil)
        #expect(Self.isRefused(policy.decide(noOrganizer, route: .create, creatingDomain: nil, report: report), saying: "names no organizer"))
    }

    @Test("enforce: domains are compared by organizational domain", arguments: [
        ("alice@mail.example.com", "alice@example.com", true),
        ("alice@example.com", "ALICE@Calendar.Example.COM", true),
        ("a@mail.shop.co.uk", "b@shop.co.uk", true),
        ("a@one.co.uk", "b@two.co.uk", false),
        ("a@example.com", "b@example.com.evil.example", false),
    ])
    func organizationalDomains(sender: String, organizer: String, matches: Bool) {
        let policy = Self.policy(.enforce)
        let report = Self.report(from: sender, authenticated: true)
        #expect(policy.organizerMatchesSender(Self.request(organizer: organizer), report) == matches)
    }

    @Test("enforce: an update or cancel of a known UID only from the domain that created it")
    func creatingDomain() {
        let policy = Self.policy(.enforce)
        let other = Self.report(from: "bob@other.example", authenticated: true)
        let request = Self.request(organizer: "bob@other.example")
        for route in [Route.update, .cancel] {
            let decision = policy.decide(request, route: route, creatingDomain: "example.com", report: other)
            #expect(Self.isRefused(decision, saying: "was created by example.com"))
            #expect(Self.isRefused(decision, saying: "sent from other.example is not accepted"))
            // A subdomain of the creator is the same organization; an unrecorded creator is not checked.
            #expect(policy.decide(request, route: route, creatingDomain: "mail.other.example", report: other) == .accept)
            #expect(policy.decide(request, route: route, creatingDomain: nil, report: other) == .accept)
        }
        // A create is a new UID: nothing was recorded to compare with.
        #expect(policy.decide(request, route: .create, creatingDomain: "example.com", report: other) == .accept)
    }

    @Test("enforce: a REPLY or COUNTER only from an authenticated attendee")
    func replies() {
        let policy = Self.policy(.enforce)
        let reply = Self.request("reply", organizer: "alice@example.com", attendees: ["Bob@Guest.example"])
        let bob = Self.report(from: "bob@guest.example", authenticated: true)
        #expect(policy.decide(reply, route: .reply, creatingDomain: "example.com", report: bob) == .accept)
        let carol = Self.report(from: "carol@guest.example", authenticated: true)
        #expect(Self.isRefused(policy.decide(reply, route: .reply, creatingDomain: nil, report: carol), saying: "carol@guest.example, who is not an attendee"))
        let counter = Self.request("counter", attendees: ["bob@guest.example"])
        #expect(Self.isRefused(policy.decide(counter, route: .reply, creatingDomain: nil, report: carol), saying: "counter-proposal"))
        let forgedBob = Self.report(from: "bob@guest.example", authenticated: false)
        #expect(Self.isRefused(policy.decide(reply, route: .reply, creatingDomain: nil, report: forgedBob), saying: "could not be verified"))
        var override = reply
        override.attendees = []
        override.overrides = [
            EventOverride(
                recurrenceId: EventTime(year: 2026, month: 1, day: 5, kind: .date), sequence: 0, start: nil, end: nil, summary: nil,
                description: nil, location: nil, status: nil,
                attendees: [EventAttendee(email: "bob@guest.example", name: nil, partstat: "DECLINED", role: "REQ-PARTICIPANT", rsvp: false)])
        ]
        #expect(policy.decide(override, route: .reply, creatingDomain: nil, report: bob) == .accept)
    }

    @Test("enforce: a chain sealed by a trusted ARC sealer authenticates; an untrusted chain does not")
    func arc() {
        let policy = Self.policy(.enforce)
        let trusted = Self.report(
            from: "alice@example.com", authenticated: false,
            arc: ARCCheck(present: true, chainValidation: "pass", sealers: ["lists.example.org"], trusted: true))
        #expect(policy.decide(Self.request(), route: .create, creatingDomain: nil, report: trusted) == .accept)
        let untrusted = Self.report(
            from: "alice@example.com", authenticated: false,
            arc: ARCCheck(present: true, chainValidation: "pass", sealers: ["lists.evil.example"], trusted: false))
        #expect(Self.isRefused(policy.decide(Self.request(), route: .create, creatingDomain: nil, report: untrusted), saying: "could not be verified"))
    }

    @Test("enforce: what already goes to the failure route stays there")
    func failureRoute() {
        let forged = Self.report(from: "x@evil.example", authenticated: false)
        #expect(Self.policy(.enforce).decide(Self.request("add"), route: .failure, creatingDomain: nil, report: forged) == .accept)
    }

    /// A report where the sender is not authenticated because the DMARC lookup (and, with
    /// `spfToo`, SPF) ended in a temperror.
    static func temporaryFailure(from address: String, spfToo: Bool = false) -> SenderAuthenticationReport {
        var report = Self.report(from: address, authenticated: false)
        report.dmarc.result = .temperror
        if spfToo { report.spf.result = .temperror }
        return report
    }

    @Test("enforce: an unauthenticated sender whose checks hit a temperror is retried while the caller allows it, then refused")
    func temporaryErrorsRetried() {
        let policy = Self.policy(.enforce)
        let report = Self.temporaryFailure(from: "alice@example.com", spfToo: true)
        #expect(report.hasTemporaryError)
        for (route, request) in [(Route.create, Self.request()), (.cancel, Self.request("cancel")),
                                 (.reply, Self.request("reply", attendees: ["alice@example.com"]))] {
            let retried = policy.decide(request, route: route, creatingDomain: nil, report: report, temporaryErrorsMayRetry: true)
            guard case .retryLater(let reason) = retried else {
                Issue.record("\(route): \(retried)")
                continue
            }
            #expect(reason.contains("DNS lookup failed temporarily (SPF temperror"), "\(reason)")
            let decided = policy.decide(request, route: route, creatingDomain: nil, report: report, temporaryErrorsMayRetry: false)
            #expect(Self.isRefused(decided, saying: "could not be verified"), "\(route): \(decided)")
        }
        // A plain failure (no temperror) is refused at once even when retries are allowed.
        let forged = Self.report(from: "alice@example.com", authenticated: false)
        #expect(!forged.hasTemporaryError)
        #expect(Self.isRefused(
            policy.decide(Self.request(), route: .create, creatingDomain: nil, report: forged, temporaryErrorsMayRetry: true),
            saying: "could not be verified"))
        // Authenticated despite a temperror elsewhere (SPF): decided now, never put off.
        var authenticated = Self.report(from: "alice@example.com", authenticated: true)
        authenticated.spf.result = .temperror
        #expect(policy.decide(Self.request(), route: .create, creatingDomain: nil, report: authenticated, temporaryErrorsMayRetry: true) == .accept)
        let mismatch = policy.decide(
            Self.request(organizer: "bob@other.example"), route: .create, creatingDomain: nil, report: authenticated,
            temporaryErrorsMayRetry: true)
        #expect(Self.isRefused(mismatch, saying: "not in the sender's verified domain"))
        // report mode never retries.
        #expect(Self.policy(.report).decide(Self.request(), route: .create, creatingDomain: nil, report: report, temporaryErrorsMayRetry: true) == .accept)
    }
}

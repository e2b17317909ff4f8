import Foundation
import Invites
import Notifications
import SenderAuthentication
import Testing

@Suite("Sender authentication in the event JSON")
struct SenderAuthenticationJSONTests {
    static func report(dmarc: DMARCResult = .pass, signatures: Int = 1, domain: String = "example.com") -> SenderAuthenticationReport {
        SenderAuthenticationReport(
            spf: SPFCheck(result: .softfail, identityKind: "mailfrom", identity: "bounce@\(domain)", domain: domain),
            dkim: (0..<signatures).map { DKIMSignatureCheck(result: .pass, domain: domain, selector: "s\($0)", algorithm: "ed25519-sha256") },
            dmarc: DMARCCheck(result: dmarc, fromDomain: domain, organizationalDomain: domain, policy: .quarantine),
            arc: .absent, fromAddress: "alice@\(domain)", fromDomain: domain, clientAddress: "2001:db8::25",
            senderAuthenticated: dmarc == .pass, authenticatedDomains: dmarc == .pass ? [domain] : [])
    }

    static func summary(_ report: SenderAuthenticationReport, matches: Bool? = true) -> SenderAuthenticationSummary {
        SenderAuthenticationSummary(
            report: report, authenticationResults: report.authenticationResultsHeader(authservId: "mx.cis.test", folded: false),
            policy: "enforce", organizerMatchesSender: matches, ignoredAuthenticationResults: 1)
    }

    static func object(_ json: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
    }

    static let request = EventRequest(method: "request", requestId: "r1", originalUID: "uid-1", sequence: 0)

    @Test("an event carries SES's receipt verdicts, the detail, the header and the conclusions")
    func event() throws {
        let fields = try Self.object(Self.request.json(route: .create, senderAuthentication: Self.summary(Self.report())))
        let receipt = try #require(fields["receipt"] as? [String: Any])
        #expect((receipt["spfVerdict"] as? [String: String]) == ["status": "FAIL"])
        #expect((receipt["dkimVerdict"] as? [String: String]) == ["status": "PASS"])
        #expect((receipt["dmarcVerdict"] as? [String: String]) == ["status": "PASS"])
        #expect(receipt["dmarcPolicy"] == nil, "SES gives dmarcPolicy only when DMARC fails")
        #expect((receipt["authenticatedDomains"] as? [String]) == ["example.com"])
        #expect(receipt["clientIp"] as? String == "2001:db8::25")
        #expect((receipt["spf"] as? [String: String])?["identity"] == "bounce@example.com")
        let signature = try #require((receipt["dkimSignatures"] as? [[String: Any]])?.first)
        #expect(signature["selector"] as? String == "s0")
        #expect(signature["algorithm"] as? String == "ed25519-sha256")
        #expect(receipt["ignoredAuthenticationResults"] as? Int == 1)
        #expect((fields["authentication_results"] as? String)?.hasPrefix("Authentication-Results: mx.cis.test; spf=softfail") == true)
        #expect(fields["sender_authenticated"] as? Bool == true)
        #expect(fields["organizer_matches_sender"] as? Bool == true)
        #expect(fields["sender_policy"] as? String == "enforce")
        #expect(fields["route"] as? String == "create")
    }

    @Test("a DMARC failure carries the published policy as dmarcPolicy")
    func dmarcPolicy() throws {
        let fields = try Self.object(Self.request.json(route: .update, senderAuthentication: Self.summary(Self.report(dmarc: .fail))))
        let receipt = try #require(fields["receipt"] as? [String: Any])
        #expect((receipt["dmarcVerdict"] as? [String: String]) == ["status": "FAIL"])
        #expect((receipt["dmarcPolicy"] as? [String: String]) == ["status": "QUARANTINE"])
        #expect(fields["sender_authenticated"] as? Bool == false)
    }

    @Test("without a policy (off) the JSON has no sender-authentication fields")
    func off() throws {
        let fields = try Self.object(Self.request.json(route: .create))
        for key in ["receipt", "authentication_results", "sender_authenticated", "organizer_matches_sender", "sender_policy"] {
            #expect(fields[key] == nil)
        }
    }

    @Test("a failure notice carries notify, the refused request and the verdicts")
    func failure() throws {
        var failure = InviteFailure(reason: "The sender could not be verified", requestId: "r1", mailto: "alice@example.com", method: "cancel")
        failure.notify = false
        failure.refusedRequest = .init(originalUID: "uid-1", sequence: 3, route: "cancel")
        let fields = try Self.object(failure.json(senderAuthentication: Self.summary(Self.report(dmarc: .fail), matches: nil)))
        #expect(fields["notify"] as? Bool == false)
        #expect(fields["original_uid"] as? String == "uid-1")
        #expect(fields["sequence"] as? Int == 3)
        #expect(fields["refused_route"] as? String == "cancel")
        #expect(fields["route"] as? String == "failure")
        #expect(fields["organizer_matches_sender"] == nil)
        #expect(fields["authentication_results"] is String)
        #expect(failure.deduplicationId == "r1/uid-1/3/refused")
        #expect(try Self.object(InviteFailure(reason: "x", requestId: "r2").json())["notify"] as? Bool == true)
    }

    /// A report with a hostile string (every control character, quotes, backslash, non-ASCII)
    /// in every text, ARC present, and optional members set or not.
    static func hostileReport(dmarc: DMARCResult, optionalsSet: Bool) -> SenderAuthenticationReport {
        let text = EventJSONTests.hostile
        let long = String(repeating: "é", count: 600)
        var report = SenderAuthenticationReport(
            spf: SPFCheck(result: .pass, identityKind: text, identity: long, domain: text),
            dkim: (0..<20).map {
                DKIMSignatureCheck(result: .fail, domain: text, selector: "s\($0)", algorithm: long, reason: optionalsSet ? text : nil)
            },
            dmarc: DMARCCheck(result: dmarc, fromDomain: text, organizationalDomain: long, policy: optionalsSet ? .reject : nil),
            arc: ARCCheck(present: true, chainValidation: optionalsSet ? text : nil, sealers: (0..<40).map { "\(text)\($0)" }, trusted: optionalsSet),
            fromAddress: optionalsSet ? text : nil, fromDomain: optionalsSet ? long : nil, clientAddress: text,
            senderAuthenticated: optionalsSet, authenticatedDomains: (0..<40).map { "d\($0)\(text)" })
        report.spf.detail = text
        return report
    }

    @Test("the direct encoder writes the members byte for byte as the sorted-keys serialization did", arguments: [false, true])
    func sameAsSortedKeysSerialization(optionalsSet: Bool) throws {
        for dmarc in [DMARCResult.pass, .fail, .none] {
            for matches in [nil, true, false] as [Bool?] {
                let summary = SenderAuthenticationSummary(
                    report: Self.hostileReport(dmarc: dmarc, optionalsSet: optionalsSet),
                    authenticationResults: EventJSONTests.hostile, policy: "report", organizerMatchesSender: matches,
                    ignoredAuthenticationResults: 7)
                let members = FoundationEventJSON.senderAuthenticationMembers(summary)
                let event = Self.request.json(route: .create)
                #expect(Self.request.json(route: .create, senderAuthentication: summary) == String(event.dropLast()) + "," + members + "}")
                let failure = InviteFailure(reason: "x", requestId: "r1")
                #expect(failure.json(senderAuthentication: summary) == String(failure.json().dropLast()) + "," + members + "}")
            }
        }
    }

    @Test("lists and texts from the message are bounded")
    func bounded() throws {
        let long = String(repeating: "a", count: 5_000) + ".example"
        let fields = try Self.object(Self.request.json(route: .create, senderAuthentication: Self.summary(Self.report(signatures: 100, domain: long))))
        let receipt = try #require(fields["receipt"] as? [String: Any])
        #expect((receipt["dkimSignatures"] as? [Any])?.count == 16)
        #expect((receipt["fromDomain"] as? String)?.count == 512)
    }
}

import Invites
import Notifications
import SenderAuthentication

/// `--sender-policy`: what the consumer does with the sender-authentication verdicts.
public enum SenderPolicyMode: String, Sendable, Equatable, CaseIterable {
    /// No verification: the event JSON has no verdicts.
    case off
    /// Verdicts in every event and failure notice; routing unchanged.
    case report
    /// Verdicts, and requests from senders who are not authenticated, or not allowed to speak
    /// for the event, go to the failure route instead.
    case enforce
}

/// The sender policy's decisions, pure: from an event request, the route it would take, what the
/// event index recorded for its UID and the sender-authentication report, to accept or refuse.
///
/// Under `enforce`:
/// - REQUEST, PUBLISH and CANCEL need an authenticated sender (DMARC, or an aligned pass where
///   the domain publishes no DMARC record, or a chain sealed by a trusted ARC sealer) and an
///   ORGANIZER (or its SENT-BY) in the sender's organizational domain;
/// - an update or cancel of a known UID is accepted only from the organizational domain that created it;
/// - a REPLY or COUNTER needs an authenticated sender who is an attendee.
///
/// A sender who is not authenticated because a check ended in a `temperror` is not refused while
/// the caller says the message may still be retried (`--sender-temperror-retry`): `retryLater`.
///
/// Under `report` every request is accepted; `off` never gets here.
public struct SenderPolicy: Sendable {
    public enum Decision: Sendable, Equatable {
        case accept
        /// The reason in plain words, for the requester (if notified) and the operator.
        case refuse(reason: String)
        /// The sender could not be verified because a check ended in a `temperror`: try the
        /// message again later instead of refusing it (the reason is for the log).
        case retryLater(reason: String)
    }

    public var mode: SenderPolicyMode
    /// The organizational domain (RFC 7489 §3.2) of a lowercased domain: `SenderVerifying.organizationalDomain(of:)`.
    public var organizationalDomain: @Sendable (String) -> String

    public init(mode: SenderPolicyMode, organizationalDomain: @escaping @Sendable (String) -> String) {
        self.mode = mode
        self.organizationalDomain = organizationalDomain
    }

    /// The sender's authenticated domain: the `From:` domain when it is authenticated (or when a
    /// trusted ARC sealer vouches for the chain), else nil.
    public func authenticatedDomain(_ report: SenderAuthenticationReport) -> String? {
        guard report.senderAuthenticated || report.arc.trusted, let domain = report.fromDomain, !domain.isEmpty else { return nil }
        return domain.lowercased()
    }

    /// Whether a failure notice may be sent to the requester. Under `enforce` only to an
    /// authenticated sender (a notice to a forged address is backscatter); otherwise always, as without a policy.
    public func mayNotify(_ report: SenderAuthenticationReport) -> Bool {
        self.mode != .enforce || self.authenticatedDomain(report) != nil
    }

    /// Whether the ORGANIZER or its SENT-BY is in the authenticated sender's organizational domain.
    public func organizerMatchesSender(_ request: EventRequest, _ report: SenderAuthenticationReport) -> Bool {
        guard let sender = self.authenticatedDomain(report) else { return false }
        let senderOrganization = self.organizationalDomain(sender)
        let candidates = [request.organizer?.email, request.organizer?.sentBy].compactMap { $0 }
        return candidates.contains { address in
            guard let domain = Self.domain(of: address) else { return false }
            return self.organizationalDomain(domain) == senderOrganization
        }
    }

    /// - Parameters:
    ///   - route: the route the request takes without a policy.
    ///   - creatingDomain: what the event index recorded as the UID's creator (nil: unknown or not recorded).
    ///   - temporaryErrorsMayRetry: a refusal for want of authentication that a `temperror` caused
    ///     becomes `retryLater`.
    public func decide(
        _ request: EventRequest, route: Route, creatingDomain: String?, report: SenderAuthenticationReport,
        temporaryErrorsMayRetry: Bool = false
    ) -> Decision {
        guard self.mode == .enforce else { return .accept }
        switch route {
        case .create, .update, .cancel:
            return self.decideOrganizerRequest(
                request, route: route, creatingDomain: creatingDomain, report: report, mayRetry: temporaryErrorsMayRetry)
        case .reply:
            return self.decideAttendeeReply(request, report: report, mayRetry: temporaryErrorsMayRetry)
        case .failure:
            return .accept
        }
    }

    private func decideOrganizerRequest(
        _ request: EventRequest, route: Route, creatingDomain: String?, report: SenderAuthenticationReport, mayRetry: Bool
    ) -> Decision {
        guard let sender = self.authenticatedDomain(report) else {
            return Self.unauthenticated(report, mayRetry: mayRetry)
        }
        guard let organizer = request.organizer?.email ?? request.organizer?.sentBy else {
            return .refuse(reason: "The invitation names no organizer, so it cannot be matched to the sender's domain \(sender).")
        }
        guard self.organizerMatchesSender(request, report) else {
            let sentBy = request.organizer?.sentBy.map { " (sent by \($0))" } ?? ""
            return .refuse(
                reason: "The organizer \(organizer)\(sentBy) is not in the sender's verified domain \(sender); only the organizer's own domain may send this invitation.")
        }
        if route != .create, let creator = creatingDomain,
            self.organizationalDomain(creator.lowercased()) != self.organizationalDomain(sender)
        {
            let action = route == .cancel ? "a cancellation" : "an update"
            return .refuse(
                reason: "The event \(request.originalUID) was created by \(creator); \(action) sent from \(sender) is not accepted.")
        }
        return .accept
    }

    private func decideAttendeeReply(_ request: EventRequest, report: SenderAuthenticationReport, mayRetry: Bool) -> Decision {
        guard self.authenticatedDomain(report) != nil, let from = report.fromAddress?.lowercased() else {
            return Self.unauthenticated(report, mayRetry: mayRetry)
        }
        let attendees = request.attendees.map(\.email) + request.overrides.flatMap { $0.attendees.map(\.email) }
        guard attendees.contains(where: { $0.lowercased() == from }) else {
            let kind = request.method == "counter" ? "counter-proposal" : "reply"
            return .refuse(reason: "The \(kind) comes from \(from), who is not an attendee of the event \(request.originalUID).")
        }
        return .accept
    }

    /// The creating domain to record when a request is routed to `create`.
    public func creatingDomain(_ report: SenderAuthenticationReport) -> String? {
        self.authenticatedDomain(report)
    }

    private static func unauthenticated(_ report: SenderAuthenticationReport, mayRetry: Bool) -> Decision {
        guard mayRetry, report.hasTemporaryError else { return .refuse(reason: Self.notAuthenticated(report)) }
        return .retryLater(
            reason: "The sender could not be verified for now: a DNS lookup failed temporarily (SPF \(report.spf.result.rawValue), "
                + "DKIM \(report.dkimVerdict.rawValue.lowercased()), DMARC \(report.dmarc.result.rawValue)); the message is tried again.")
    }

    private static func notAuthenticated(_ report: SenderAuthenticationReport) -> String {
        let from = report.fromDomain.map { "mail from \($0)" } ?? "a message without a single From: address"
        return "The sender could not be verified: \(from) did not pass DMARC (SPF \(report.spf.result.rawValue), DKIM "
            + "\(report.dkimVerdict.rawValue.lowercased()), DMARC \(report.dmarc.result.rawValue)), so the request is not accepted."
    }

    /// The lowercased domain of `user@domain`, nil without an `@`.
    static func domain(of address: String) -> String? {
        guard let at = address.lastIndex(of: "@") else { return nil }
        let domain = address[address.index(after: at)...].lowercased()
        return domain.isEmpty ? nil : domain
    }
}

/// Turns one calendar part into event requests, or the reason it cannot be acted on (RFC 5546, RFC 6047).
enum CalendarInterpreter {
    struct Interpretation {
        var result: Result<[EventRequest], InviteFailure>
        /// Whether the body METHOD and the Content-Type `method=` are both present and equal.
        var methodMatches: Bool
        /// Whether they are both present and differ (RFC 6047 §2.4): the message is ambiguous.
        var methodContradicts: Bool = false
    }

    static let supportedMethods: Set<String> = ["request", "publish", "cancel", "reply", "counter"]
    /// Methods about exactly one UID (RFC 5546 §3.2).
    static let singleUIDMethods: Set<String> = ["request", "cancel", "reply", "counter"]

    static func interpret(_ part: CalendarPart, context: RequestContext, budget: ParseBudget) throws(LimitExceeded) -> Interpretation {
        try CalendarPrescan.check(part.text, budget: budget)
        let calendar: ParsedCalendar
        do {
            calendar = try Libical.parse(part.text, budget: budget)
        } catch {
            switch error {
            case .overLimit(let exceeded): throw exceeded
            case .unparseable(let error):
                return Interpretation(
                    result: .failure(context.failure(FailureReason.unparseable(error.message), method: part.contentTypeMethod)),
                    methodMatches: false)
            }
        }
        let methodMatches = calendar.method != nil && calendar.method == part.contentTypeMethod
        let methodContradicts = calendar.method != nil && part.contentTypeMethod != nil && !methodMatches
        return Interpretation(
            result: try Self.requests(from: calendar, contentTypeMethod: part.contentTypeMethod, context: context, limits: budget.limits),
            methodMatches: methodMatches, methodContradicts: methodContradicts)
    }

    static func requests(
        from calendar: ParsedCalendar, contentTypeMethod: String?, context: RequestContext, limits: ParseLimits = .default
    ) throws(LimitExceeded) -> Result<[EventRequest], InviteFailure> {
        if let body = calendar.method, let contentType = contentTypeMethod, body != contentType {
            return .failure(context.failure(FailureReason.methodMismatch(body: body, contentType: contentType), method: body))
        }
        // A calendar without METHOD is not a scheduling message (RFC 5546 §1.4): published data.
        let method = calendar.method ?? contentTypeMethod ?? "publish"
        guard Self.supportedMethods.contains(method) else {
            return .failure(context.failure(FailureReason.unsupported(method: method), method: method))
        }
        guard !calendar.events.isEmpty else {
            return .failure(context.failure(
                FailureReason.noEvent(found: calendar.otherComponents, errors: calendar.errors), method: method))
        }
        guard let events = Self.eventsWithUIDs(calendar.events) else {
            return .failure(context.failure(FailureReason.missingUID(errors: calendar.errors), method: method))
        }
        let groups = Self.groupedByUID(events)
        if Self.singleUIDMethods.contains(method), groups.count > 1 {
            return .failure(context.failure(FailureReason.severalUIDs(method: method, count: groups.count), method: method))
        }
        var requests: [EventRequest] = []
        for (uid, events) in groups {
            if events.count - 1 > limits.maximumOverrides {
                throw LimitExceeded(reason: FailureReason.tooManyOverrides(uid: uid, limit: limits.maximumOverrides))
            }
            let request = Self.request(uid: uid, events: events, method: method, prodid: calendar.prodid, context: context)
            if let reason = Self.missingRequirement(of: request, errors: calendar.errors) {
                return .failure(context.failure(reason, method: method))
            }
            requests.append(request)
        }
        return .success(requests)
    }

    /// What RFC 5546 requires that the request lacks, for the few requirements we rely on.
    private static func missingRequirement(of request: EventRequest, errors: [String]) -> String? {
        switch request.method {
        case "request", "publish", "counter":
            return request.start == nil ? FailureReason.missingStart(method: request.method, errors: errors) : nil
        default:
            return nil
        }
    }

    /// The events, where an overridden instance (RECURRENCE-ID) that lost its UID takes the one
    /// UID of the others; nil when an event has no UID to go by.
    private static func eventsWithUIDs(_ events: [ParsedEvent]) -> [ParsedEvent]? {
        let uids = Set(events.compactMap { $0.uid.flatMap { $0.isEmpty ? nil : $0 } })
        var result: [ParsedEvent] = []
        for var event in events {
            if (event.uid ?? "").isEmpty {
                guard event.recurrenceId != nil, uids.count == 1 else { return nil }
                event.uid = uids.first
            }
            result.append(event)
        }
        return result
    }

    /// Events grouped by UID, in the order each UID first appears.
    private static func groupedByUID(_ events: [ParsedEvent]) -> [(String, [ParsedEvent])] {
        var order: [String] = []
        var groups: [String: [ParsedEvent]] = [:]
        for event in events {
            let uid = event.uid ?? ""
            if groups[uid] == nil { order.append(uid) }
            groups[uid, default: []].append(event)
        }
        return order.map { ($0, groups[$0] ?? []) }
    }

    /// One request for one UID: the master VEVENT (the one without RECURRENCE-ID) with the
    /// others as overrides; without a master, the first instance stands for the request.
    private static func request(
        uid: String, events: [ParsedEvent], method: String, prodid: String?, context: RequestContext
    ) -> EventRequest {
        let primaryIndex = events.firstIndex { $0.recurrenceId == nil } ?? 0
        let primary = events[primaryIndex]
        var overrides: [EventOverride] = []
        for (index, event) in events.enumerated() where index != primaryIndex {
            guard let recurrenceId = event.recurrenceId else { continue }
            overrides.append(EventOverride(
                recurrenceId: recurrenceId, sequence: event.sequence, start: event.start, end: event.end,
                summary: event.summary, description: event.description, location: event.location,
                status: event.status, attendees: event.attendees))
        }
        return EventRequest(
            method: method, requestId: context.requestId, originalUID: uid, sequence: primary.sequence,
            mailto: context.mailto, returnPath: context.returnPath, organizer: primary.organizer,
            summary: primary.summary, description: primary.description, location: primary.location,
            start: primary.start, end: primary.end, dtstamp: primary.dtstamp, created: primary.created,
            lastModified: primary.lastModified, status: primary.status, prodid: prodid,
            attendees: primary.attendees, rrule: primary.rrule, recurrenceId: primary.recurrenceId,
            overrides: overrides, bucket: context.bucket, key: context.key)
    }
}

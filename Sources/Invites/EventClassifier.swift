import Notifications

/// Chooses the route of an event request.
public enum EventClassifier {
    /// The route of `request`.
    ///
    /// - Parameter isKnown: whether the event index knows the request's UID;
    ///   `nil` when there is no index, and then SEQUENCE > 0 means update.
    public static func route(for request: EventRequest, isKnown: Bool?) -> Route {
        switch request.method {
        case "request", "publish":
            switch isKnown {
            case .some(true): return .update
            case .some(false): return .create
            case .none: return request.sequence > 0 ? .update : .create
            }
        case "cancel":
            return .cancel
        case "reply", "counter":
            return .reply
        default:
            return .failure
        }
    }
}

import Backends
import Invites
import Notifications

/// Chooses each request's route from the event index, and records the UIDs routed to `create`.
///
/// A redelivered message must take the route it took the first time, even when the crash came
/// after its UID was recorded. So before publishing a create, the router records a marker for
/// the request's deduplication id, and a request whose marker is known goes to `create` again.
struct EventRouter: Sendable {
    let eventIndex: any EventIndex

    func route(for request: EventRequest) async throws(MessageProcessingError) -> Route {
        var isKnown: Bool?
        do {
            isKnown = try await self.eventIndex.isKnown(uid: request.originalUID)
            // Known because this very request created it before a crash: it is still a create.
            if isKnown == true, try await self.eventIndex.isKnown(uid: Self.createMarker(request)) == true {
                isKnown = false
            }
        } catch {
            throw MessageProcessingError(backendError: error, stage: .index)
        }
        return EventClassifier.route(for: request, isKnown: isKnown)
    }

    /// Call before publishing a request routed to `create`.
    func willPublishCreate(_ request: EventRequest) async throws(MessageProcessingError) {
        do {
            try await self.eventIndex.recordCreated(uid: Self.createMarker(request))
        } catch {
            throw MessageProcessingError(backendError: error, stage: .index)
        }
    }

    /// The domain recorded as the creator of the request's UID, nil when unknown or not recorded.
    func creatingDomain(of request: EventRequest) async throws(MessageProcessingError) -> String? {
        do {
            return try await self.eventIndex.creatingDomain(uid: request.originalUID)
        } catch {
            throw MessageProcessingError(backendError: error, stage: .index)
        }
    }

    /// Call after a request routed to `create` was published; `creatingDomain` is the
    /// authenticated sender's domain (nil when not authenticated or not checked).
    func didPublishCreate(_ request: EventRequest, creatingDomain: String?) async throws(MessageProcessingError) {
        do {
            try await self.eventIndex.recordCreated(uid: request.originalUID, creatingDomain: creatingDomain)
        } catch {
            throw MessageProcessingError(backendError: error, stage: .index)
        }
    }

    private static func createMarker(_ request: EventRequest) -> String {
        "cis-create-marker/" + request.deduplicationId
    }
}

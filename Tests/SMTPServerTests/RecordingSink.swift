import Foundation
import NIOConcurrencyHelpers
import SMTPCore
import SMTPServer

/// A `MessageSink` for listener tests: keeps every message it is given (reading a spooled
/// file while it still exists), and can be told to fail or to hold deliveries until released.
/// Made `direct`, it takes messages through `submit` too (answering from a task), as the
/// drop box over the embedded store does.
final class RecordingSink: DirectMessageSink {
    struct Delivery: Sendable {
        var envelope: SMTPEnvelope
        var text: [UInt8]
        /// The spool file, for a message that came spooled.
        var spoolPath: String?
    }

    struct Failure: Error {}

    private struct State {
        var deliveries: [Delivery] = []
        var fails = false
        var holding = false
        var held: [CheckedContinuation<Void, Never>] = []
        var waitingForDelivery: [CheckedContinuation<Void, Never>] = []
        var started = 0
        var submitted = 0
    }

    private let state = NIOLockedValueBox(State())
    let deliversDirectly: Bool

    init(direct: Bool = false) {
        self.deliversDirectly = direct
    }

    /// Messages that came through `submit`.
    var submitted: Int { self.state.withLockedValue { $0.submitted } }

    func submit(_ message: ReceivedMessage, completion: @escaping @Sendable (Result<DeliveryReceipt, any Error>) -> Void) {
        self.state.withLockedValue { $0.submitted += 1 }
        self.deliverInTask(message, completion: completion)
    }

    var deliveries: [Delivery] { self.state.withLockedValue { $0.deliveries } }

    func setFails(_ fails: Bool) {
        self.state.withLockedValue { $0.fails = fails }
    }

    /// Deliveries wait in `deliver` until `release()`.
    func hold() {
        self.state.withLockedValue { $0.holding = true }
    }

    func release() {
        let held = self.state.withLockedValue { state in
            state.holding = false
            defer { state.held = [] }
            return state.held
        }
        held.forEach { $0.resume() }
    }

    /// Returns once a delivery has started.
    func waitForDeliveryStart() async {
        await withCheckedContinuation { continuation in
            let started = self.state.withLockedValue { state in
                if state.started > 0 { return true }
                state.waitingForDelivery.append(continuation)
                return false
            }
            if started { continuation.resume() }
        }
    }

    func deliver(_ message: ReceivedMessage) async throws -> DeliveryReceipt {
        let waiting = self.state.withLockedValue { state in
            state.started += 1
            defer { state.waitingForDelivery = [] }
            return state.waitingForDelivery
        }
        waiting.forEach { $0.resume() }
        await withCheckedContinuation { continuation in
            let hold = self.state.withLockedValue { state in
                if state.holding { state.held.append(continuation) }
                return state.holding
            }
            if !hold { continuation.resume() }
        }
        let text: [UInt8]
        var spoolPath: String?
        switch message.content {
        case .memory(let bytes):
            text = bytes
        case .spooled(let path, let size):
            text = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
            precondition(text.count == size)
            spoolPath = path
        }
        return try self.state.withLockedValue { state in
            if state.fails { throw Failure() }
            state.deliveries.append(Delivery(envelope: message.envelope, text: text, spoolPath: spoolPath))
            let id = "test\(state.deliveries.count)"
            return DeliveryReceipt(messageId: id, objectKey: "inbound/\(id)")
        }
    }
}

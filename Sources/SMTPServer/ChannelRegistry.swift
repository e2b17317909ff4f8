import NIOConcurrencyHelpers
import NIOCore

/// The open client connections, so that any the accept loop never received (accepted
/// while the listener was closing) can still be told 421 and closed at shutdown.
final class ChannelRegistry: Sendable {
    private let channels = NIOLockedValueBox<[ObjectIdentifier: any Channel]>([:])

    /// Registers the channel until it closes.
    func add(_ channel: any Channel) {
        let id = ObjectIdentifier(channel)
        self.channels.withLockedValue { $0[id] = channel }
        channel.closeFuture.whenComplete { _ in
            self.channels.withLockedValue { _ = $0.removeValue(forKey: id) }
        }
    }

    var openChannels: [any Channel] { self.channels.withLockedValue { Array($0.values) } }
}

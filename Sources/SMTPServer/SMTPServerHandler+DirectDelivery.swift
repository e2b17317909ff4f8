import SMTPCore

extension SMTPServerHandler {
    /// A sink that takes a message held in memory straight from the event loop, and how much
    /// message text the handler holds for it: a message that grows past `memoryLimit` goes on
    /// to the connection's async side (which spools it) from then on.
    struct DirectDelivery: Sendable {
        var sink: any DirectMessageSink
        var memoryLimit: Int

        /// The direct path of `sink`, if it has one in use.
        init?(_ sink: any MessageSink, memoryLimit: Int) {
            guard let sink = sink as? any DirectMessageSink, sink.deliversDirectly else { return nil }
            self.sink = sink
            self.memoryLimit = memoryLimit
        }
    }
}

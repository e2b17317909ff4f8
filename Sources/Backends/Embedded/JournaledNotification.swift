/// A queue notification written into the object journal with the object it announces, so
/// that one `fdatasync` makes both durable. `messageId` is the queue message id it gets in
/// `queue.sqlite`: chosen when it is journaled, so that bringing the queue up to date from
/// the journal (after each batch, and again at start-up) inserts it once.
package struct JournaledNotification: Equatable, Sendable {
    package var messageId: String
    package var body: String

    package init(messageId: String, body: String) {
        self.messageId = messageId
        self.body = body
    }
}

import Backends
import Consumer
import DropBox
import Foundation
import Notifications
import SMTPCore
import Testing

/// The contract between intake and consumer: what the real drop box stores and queues for an
/// accepted message, in both envelope shapes, is what the consumer reads and publishes.
@Suite("Drop box to consumer (embedded backends)", .timeLimit(.minutes(3)))
struct DropBoxToConsumerTests {
    @Test(arguments: [
        DropBoxConfiguration.Envelope.s3,
        DropBoxConfiguration.Envelope.sns(topicArn: "arn:aws:sns:us-east-1:123456789012:cis-intake"),
    ])
    func acceptedInviteIsPublished(envelope: DropBoxConfiguration.Envelope) async throws {
        let fixture = try PipelineFixture()
        let dropBox = DropBox(
            objectStore: fixture.objectStore, queue: fixture.queue,
            configuration: DropBoxConfiguration(hostname: "mx.invites.test", keyPrefix: "inbound/", envelope: envelope),
            logger: fixture.logger)
        let envelopeFacts = SMTPEnvelope(
            heloName: "client.example.com", esmtp: true, mailFrom: "bounces+olivia@example.com",
            recipients: ["create@invites.test"], clientAddress: "127.0.0.1", clientPort: 40000, tls: false)
        let receipt = try await dropBox.deliver(
            ReceivedMessage(
                envelope: envelopeFacts,
                content: .memory(InviteMessages.request(uid: "dropbox@example.com", sequence: 0)),
                receivedAt: Date()))

        try await fixture.withRunningConsumer {
            try await fixture.eventually("the accepted invite is published") { try await fixture.hasPublished(1, to: .create) }
        }
        let event = try #require(try fixture.published(.create).first).event
        #expect(event.uid == receipt.messageId)
        #expect(event.key == receipt.objectKey)
        #expect(event.bucket == PipelineFixture.bucket)
        #expect(event.original_uid == "dropbox@example.com")
        #expect(event.return_path == "bounces+olivia@example.com")
    }
}

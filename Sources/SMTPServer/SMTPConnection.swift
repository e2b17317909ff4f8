import Foundation
import Logging
import NIOCore
import SMTPCore

/// The async side of one connection: assembles message text as it arrives and hands each
/// complete message to the sink, off the event loop. Messages the handler holds in memory for
/// a `DirectMessageSink` never come here.
struct SMTPConnection: Sendable {
    typealias Channel = NIOAsyncChannel<SMTPConnectionEvent, SMTPDeliveryOutcome>

    let sink: any MessageSink
    let spoolDirectory: String
    let spoolThreshold: Int
    let logger: Logger

    func run(_ channel: Channel) async {
        do {
            try await channel.executeThenClose { inbound, outbound in
                var assembler = MessageAssembler(spoolDirectory: self.spoolDirectory, memoryLimit: self.spoolThreshold)
                do {
                    for try await event in inbound {
                        switch event {
                        case .messageText(let text):
                            await assembler.append(text)
                        case .messageDiscarded:
                            await assembler.discard()
                        case .messageCompleted(let envelope, let receivedAt):
                            let outcome = await self.deliver(await assembler.finish(), envelope: envelope, receivedAt: receivedAt)
                            await assembler.discard()
                            try await outbound.write(outcome)
                        }
                    }
                } catch {
                    await assembler.discard()
                    throw error
                }
                await assembler.discard()
            }
        } catch {
            self.logger.debug("connection ended", metadata: ["error": "\(error)"])
        }
    }

    private func deliver(
        _ content: Result<MessageContent, any Error>, envelope: SMTPEnvelope, receivedAt: Date
    ) async -> SMTPDeliveryOutcome {
        do {
            let message = ReceivedMessage(envelope: envelope, content: try content.get(), receivedAt: receivedAt)
            return .delivered(try await self.sink.deliver(message))
        } catch {
            return .failed(reason: "\(error)")
        }
    }
}

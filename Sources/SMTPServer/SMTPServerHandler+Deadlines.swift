import NIOCore

extension SMTPServerHandler {
    /// Every wait of a session has one of these deadlines.
    struct Deadlines: Sendable {
        var command: TimeAmount
        var data: TimeAmount
        var tlsHandshake: TimeAmount
        var session: TimeAmount
        /// Bytes per second of message text after `minimumDataRateGrace`; 0 is no check.
        var minimumDataRate: Int
        var minimumDataRateGrace: TimeAmount
        var maximumPendingReplyBytes: Int
        /// How long the last reply may take to be written before the socket is closed anyway.
        var closeGrace: TimeAmount

        init(
            command: TimeAmount, data: TimeAmount,
            tlsHandshake: TimeAmount = SMTPServerConfiguration.defaultTLSHandshakeTimeout,
            session: TimeAmount = SMTPServerConfiguration.defaultMaximumSessionTime,
            minimumDataRate: Int = SMTPServerConfiguration.defaultMinimumDataRate,
            minimumDataRateGrace: TimeAmount = SMTPServerConfiguration.defaultMinimumDataRateGrace,
            maximumPendingReplyBytes: Int = SMTPServerConfiguration.defaultMaximumPendingReplyBytes,
            closeGrace: TimeAmount = SMTPServerConfiguration.defaultCloseTimeout
        ) {
            self.command = command
            self.data = data
            self.tlsHandshake = tlsHandshake
            self.session = session
            self.minimumDataRate = minimumDataRate
            self.minimumDataRateGrace = minimumDataRateGrace
            self.maximumPendingReplyBytes = maximumPendingReplyBytes
            self.closeGrace = closeGrace
        }

        init(_ configuration: SMTPServerConfiguration) {
            self.init(
                command: configuration.commandTimeout, data: configuration.dataTimeout,
                tlsHandshake: configuration.tlsHandshakeTimeout, session: configuration.maximumSessionTime,
                minimumDataRate: configuration.minimumDataRate,
                minimumDataRateGrace: configuration.minimumDataRateGrace,
                maximumPendingReplyBytes: configuration.maximumPendingReplyBytes, closeGrace: configuration.closeTimeout)
        }
    }
}

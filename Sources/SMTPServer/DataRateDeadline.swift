import NIOCore

/// The deadline for message text that arrives too slowly (Postfix's `smtpd_min_data_rate`):
/// after a grace period from the 354, the text received so far must average at least the
/// minimum rate, so a client trickling a large message cannot hold its connection for as
/// long as the message would take. The idle DATA timeout applies as well.
struct DataRateDeadline: Sendable {
    let started: NIODeadline
    let grace: TimeAmount
    /// Bytes per second; 0 turns the check off.
    let minimumRate: Int

    /// When the session must end if no more than `received` bytes have arrived by then;
    /// nil when the check is off.
    func deadline(received: Int) -> NIODeadline? {
        guard self.minimumRate > 0 else { return nil }
        let earned = TimeAmount.nanoseconds(
            Int64(min(Double(received) / Double(self.minimumRate) * 1e9, Double(Int64.max / 2))))
        return self.started + max(self.grace, earned)
    }
}

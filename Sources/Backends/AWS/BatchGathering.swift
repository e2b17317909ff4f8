/// Groups items into batches of at most `maximumEntries` items and `maximumBytes` bytes in
/// arrival order: the state of `SQSRequestBatcher`, without clocks or I/O.
///
/// A batch closes when it is full (by count, or because the next item would not fit in its
/// bytes) or when its window ends (`takeOpen(number:)`). An item larger than `maximumBytes`
/// travels alone, so the service's answer for it touches no other item.
struct BatchGathering<Item> {
    let maximumEntries: Int
    let maximumBytes: Int
    private(set) var open: [Item] = []
    private(set) var openBytes = 0
    /// Numbers the batches as they open, so that a window timer can tell whether the batch
    /// it was started for is still the open one.
    private(set) var openNumber = 0

    init(maximumEntries: Int, maximumBytes: Int) {
        precondition(maximumEntries > 0 && maximumBytes > 0)
        self.maximumEntries = maximumEntries
        self.maximumBytes = maximumBytes
    }

    struct Added {
        /// Batches to send now, in order.
        var ready: [[Item]] = []
        /// The number of the batch the item opened (start its window), or nil when the item
        /// joined an open batch or left in a ready one.
        var opened: Int? = nil
    }

    mutating func add(_ item: Item, bytes: Int) -> Added {
        var added = Added()
        if !self.open.isEmpty && self.openBytes + bytes > self.maximumBytes {
            added.ready.append(self.close())
        }
        if self.open.isEmpty {
            self.openNumber &+= 1
            added.opened = self.openNumber
        }
        self.open.append(item)
        self.openBytes += bytes
        if self.open.count >= self.maximumEntries || self.openBytes >= self.maximumBytes {
            added.ready.append(self.close())
            added.opened = nil
        }
        return added
    }

    /// The open batch if it is still the one numbered `number` (its window ended), else nil.
    mutating func takeOpen(number: Int) -> [Item]? {
        guard number == self.openNumber, !self.open.isEmpty else { return nil }
        return self.close()
    }

    private mutating func close() -> [Item] {
        defer {
            self.open = []
            self.openBytes = 0
        }
        return self.open
    }
}

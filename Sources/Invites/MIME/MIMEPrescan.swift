/// Counts MIME parts and multipart nesting from the raw message, before GMime sees it.
///
/// GMime's time grows with the square of the nesting (every line is checked against every
/// open boundary) and its memory with the number of parts, so a message over a limit is refused
/// without being parsed. Delimiter lines are the lines `--<boundary>` of the boundaries the
/// message declares (`boundary=`); when a boundary is declared in RFC 2231 form
/// (`boundary*0=...`), every line starting with `--` is counted.
enum MIMEPrescan {
    static func check(_ bytes: [UInt8], budget: ParseBudget) throws(LimitExceeded) {
        try bytes.withUnsafeBufferPointer { (buffer) throws(LimitExceeded) in try Self.count(buffer, budget: budget) }
    }

    private static func count(_ bytes: UnsafeBufferPointer<UInt8>, budget: ParseBudget) throws(LimitExceeded) {
        let limits = budget.limits
        var boundaries: Set<[UInt8]> = []
        var anyDashLineIsDelimiter = false
        /// Boundaries whose multipart is open, outermost first.
        var open: [[UInt8]] = []
        var parts = 1
        var lines = 0
        var start = 0
        while start < bytes.count {
            var end = start
            while end < bytes.count, bytes[end] != 0x0A { end += 1 }
            var line = UnsafeBufferPointer(rebasing: bytes[start..<end])
            start = end + 1
            lines += 1
            if lines % 65_536 == 0 { try budget.checkDeadline("counting the MIME parts") }
            while let last = line.last, last == 0x0D || last == 0x20 || last == 0x09 {
                line = UnsafeBufferPointer(rebasing: line[..<(line.count - 1)])
            }
            if line.count >= 2, line[0] == 0x2D, line[1] == 0x2D {
                var name = Array(line[2...])
                let closing = name.count >= 2 && name[name.count - 1] == 0x2D && name[name.count - 2] == 0x2D
                if closing { name.removeLast(2) }
                guard anyDashLineIsDelimiter || boundaries.contains(name) else { continue }
                if let level = open.firstIndex(of: name) {
                    open.removeSubrange((closing ? level : level + 1)...)
                } else if !closing {
                    open.append(name)
                    if open.count > limits.maximumMIMEDepth {
                        throw LimitExceeded(reason: FailureReason.tooDeepMIME(limit: limits.maximumMIMEDepth))
                    }
                }
                if !closing {
                    parts += 1
                    if parts > limits.maximumMIMEParts {
                        throw LimitExceeded(reason: FailureReason.tooManyMIMEParts(limit: limits.maximumMIMEParts))
                    }
                }
            } else if let declared = Self.declaredBoundary(in: line) {
                switch declared {
                case .plain(let name): boundaries.insert(name)
                case .extended: anyDashLineIsDelimiter = true
                }
            }
        }
    }

    private enum Declared {
        case plain([UInt8])
        /// RFC 2231 parameter continuation or encoding: the name is not read here.
        case extended
    }

    /// The `boundary=` parameter on a header line, if any.
    private static func declaredBoundary(in line: UnsafeBufferPointer<UInt8>) -> Declared? {
        let key = Array("boundary".utf8)
        guard line.count > key.count else { return nil }
        var index = 0
        while index + key.count < line.count {
            var matches = true
            for offset in 0..<key.count {
                var byte = line[index + offset]
                if (0x41...0x5A).contains(byte) { byte += 0x20 }
                if byte != key[offset] {
                    matches = false
                    break
                }
            }
            if matches {
                var position = index + key.count
                while position < line.count, line[position] == 0x20 || line[position] == 0x09 { position += 1 }
                guard position < line.count else { return nil }
                if line[position] == 0x2A { return .extended }
                if line[position] == 0x3D {
                    return .plain(Self.value(in: line, from: position + 1))
                }
            }
            index += 1
        }
        return nil
    }

    private static func value(in line: UnsafeBufferPointer<UInt8>, from start: Int) -> [UInt8] {
        var position = start
        while position < line.count, line[position] == 0x20 || line[position] == 0x09 { position += 1 }
        guard position < line.count else { return [] }
        if line[position] == 0x22 {
            var end = position + 1
            while end < line.count, line[end] != 0x22 { end += 1 }
            return Array(line[(position + 1)..<end])
        }
        var end = position
        while end < line.count, ![0x3B, 0x20, 0x09].contains(line[end]) { end += 1 }
        return Array(line[position..<end])
    }
}

import Foundation

/// Stops the run when an invariant does not hold: libFuzzer reports the abort as a crash and
/// writes the input as an artifact.
func require(
    _ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String,
    file: StaticString = #fileID, line: UInt = #line
) {
    guard !condition() else { return }
    FileHandle.standardError.write(Data("cis-fuzz: invariant violated at \(file):\(line): \(message())\n".utf8))
    abort()
}

/// Reads typed choices from the front of a fuzz input; past its end every choice is zero.
struct FuzzInput {
    private var bytes: ArraySlice<UInt8>

    init(_ bytes: [UInt8]) {
        self.bytes = bytes[...]
    }

    var isEmpty: Bool { self.bytes.isEmpty }

    mutating func byte() -> UInt8 {
        self.bytes.popFirst() ?? 0
    }

    mutating func bool() -> Bool {
        self.byte() & 1 == 1
    }

    mutating func bytes(upTo count: Int) -> [UInt8] {
        let taken = self.bytes.prefix(count)
        self.bytes = self.bytes.dropFirst(count)
        return Array(taken)
    }

    mutating func rest() -> [UInt8] {
        defer { self.bytes = [] }
        return Array(self.bytes)
    }
}

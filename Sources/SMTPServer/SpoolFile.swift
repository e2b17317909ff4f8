import Foundation

#if canImport(Glibc)
import Glibc
private let systemWrite = Glibc.write
private let systemClose = Glibc.close
#elseif canImport(Musl)
import Musl
private let systemWrite = Musl.write
private let systemClose = Musl.close
#elseif canImport(Darwin)
import Darwin
private let systemWrite = Darwin.write
private let systemClose = Darwin.close
#endif

/// A private temporary file holding the text of one large message while it arrives.
/// Not `Sendable`: it belongs to the one connection task writing it.
final class SpoolFile {
    static let namePrefix = "cis-spool-"

    let path: String
    private var descriptor: Int32
    private(set) var size = 0

    /// Creates `<directory>/cis-spool-XXXXXX`, readable by the owner only.
    init(directory: String) throws {
        var template = Array("\(directory)/\(Self.namePrefix)XXXXXX".utf8CString)
        let descriptor = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard descriptor >= 0 else {
            throw SpoolError(operation: "create a spool file in \(directory)", errno: errno)
        }
        self.descriptor = descriptor
        self.path = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        var offset = 0
        while offset < bytes.count {
            let written = systemWrite(self.descriptor, bytes.baseAddress! + offset, bytes.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                throw SpoolError(operation: "write \(self.path)", errno: errno)
            }
            offset += written
        }
        self.size += bytes.count
    }

    /// Closes the descriptor; the file stays until `remove()`.
    func close() {
        if self.descriptor >= 0 {
            _ = systemClose(self.descriptor)
            self.descriptor = -1
        }
    }

    func remove() {
        self.close()
        unlink(self.path)
    }

    deinit {
        self.close()
    }

    /// Deletes spool files left by a previous run: their messages were never acknowledged.
    static func removeLeftovers(in directory: String) {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        for name in names where name.hasPrefix(Self.namePrefix) {
            unlink("\(directory)/\(name)")
        }
    }
}

struct SpoolError: Error, CustomStringConvertible {
    var operation: String
    var errno: Int32

    var description: String { "cannot \(self.operation): \(String(cString: strerror(self.errno)))" }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The failure of one system call, with the path it was about and its errno.
public struct SystemCallError: Error, CustomStringConvertible, Sendable {
    /// The call's name, such as `"open"` or `"fdatasync"`.
    public var call: String
    public var path: String
    /// The errno value.
    public var code: Int32

    public init(_ call: String, path: String, code: Int32 = errno) {
        self.call = call
        self.path = path
        self.code = code
    }

    public var description: String { "\(self.call)(\(self.path)): \(String(cString: strerror(self.code)))" }
}

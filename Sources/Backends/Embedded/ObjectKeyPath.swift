/// Checks that an object key can name a file inside the store's directory and nothing else.
///
/// Accepted: 1 to 1024 UTF-8 bytes of `/`-separated components, each 1 to 255 bytes,
/// none starting with `.` (which rules out `.`, `..` and the store's own `.tmp` and
/// `.meta` directories), no control characters (NUL included), no backslash, and
/// no leading, trailing or doubled `/`.
public enum ObjectKeyPath {
    static let maximumKeyLength = 1024
    static let maximumComponentLength = 255

    /// Throws `BackendError.invalidArgument` naming the problem when the key is not acceptable.
    public static func validate(_ key: String, operation: String = "validate") throws {
        _ = try self.components(of: key, backend: "filesystem", operation: operation)
    }

    /// The key's components, or a `BackendError.invalidArgument` naming the problem.
    static func components(of key: String, backend: String, operation: String) throws -> [Substring] {
        if let problem = self.problem(with: key) {
            throw BackendError(.invalidArgument, backend: backend, operation: operation, message: "invalid object key \(key.debugDescription): \(problem)")
        }
        return key.split(separator: "/", omittingEmptySubsequences: false)
    }

    /// Why the key is not acceptable, or nil when it is.
    public static func problem(with key: String) -> String? {
        let length = key.utf8.count
        guard length > 0 else { return "empty" }
        guard length <= self.maximumKeyLength else { return "longer than \(self.maximumKeyLength) bytes" }
        if key.utf8.contains(where: { $0 < 0x20 || $0 == 0x7f }) { return "contains a control character" }
        if key.contains("\\") { return "contains a backslash" }
        if key.hasPrefix("/") { return "absolute path" }
        for component in key.split(separator: "/", omittingEmptySubsequences: false) {
            if component.isEmpty { return "empty path component" }
            if component.hasPrefix(".") { return "a path component starts with '.'" }
            if component.utf8.count > self.maximumComponentLength {
                return "a path component is longer than \(self.maximumComponentLength) bytes"
            }
        }
        return nil
    }
}

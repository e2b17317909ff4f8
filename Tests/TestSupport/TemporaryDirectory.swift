import Foundation

/// A fresh directory under the system temp dir, removed when the value is released.
public final class TemporaryDirectory: Sendable {
    public let path: String

    /// - Parameter prefix: names the directory after the suite that made it.
    public init(prefix: String = "cis-tests") throws {
        let path = NSTemporaryDirectory() + prefix + "-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        self.path = path
    }

    deinit {
        try? FileManager.default.removeItem(atPath: self.path)
    }

    public func file(_ name: String) -> String {
        "\(self.path)/\(name)"
    }
}

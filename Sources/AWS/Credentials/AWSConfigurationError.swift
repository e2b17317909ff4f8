import Foundation
/// AWS settings are missing or unusable (credentials, region, endpoint, profile files).
/// Raised once at start, with a message that says what to set.
public struct AWSConfigurationError: Error, Sendable, CustomStringConvertible {
    public var message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { self.message }
}

/// One stored message named by a queue notification: the bucket and the object key, already URL-decoded.
public struct ObjectReference: Sendable, Equatable, CustomStringConvertible {
    public var bucket: String
    public var key: String

    public init(bucket: String, key: String) {
        self.bucket = bucket
        self.key = key
    }

    public var description: String { "\(self.bucket)/\(self.key)" }
}

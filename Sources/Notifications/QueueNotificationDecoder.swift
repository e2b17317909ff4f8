extension QueueNotification {
    /// Reads a queue message body: an S3 event notification (S3 → SQS), the same inside an
    /// SNS notification envelope (S3 → SNS → SQS), or S3's `s3:TestEvent`.
    ///
    /// The body is read once by `JSONValueReader` (Foundation's `JSONDecoder` cost more than
    /// the rest of a message's decoding) and checked as the `Codable` shapes
    /// (`S3EventNotification`, `SNSNotificationEnvelope`, `S3TestEvent`) decode: a field the
    /// consumer does not need may be absent or `null` (it takes its default), a field present
    /// with another type makes the body unreadable.
    public static func decode(_ body: String) throws(QueueNotificationDecodingError) -> QueueNotification {
        let top = try Self.object(body, what: "message body")
        if top["Type"] != nil || top["Message"] != nil {
            let envelope = try Self.checked("message body") { () throws(ShapeMismatch) in try SNSEnvelopeFields(top) }
            guard envelope.type == "Notification" else {
                throw QueueNotificationDecodingError("SNS message of type \(envelope.type.isEmpty ? "(none)" : envelope.type), not Notification")
            }
            guard top["Message"] != nil else {
                throw QueueNotificationDecodingError("SNS notification without a Message")
            }
            let inner = try Self.object(envelope.message, what: "SNS Message")
            return try Self.decodeS3Notification(inner, what: "SNS Message")
        }
        return try Self.decodeS3Notification(top, what: "message body")
    }

    private static func decodeS3Notification(_ top: JSONObject, what: String) throws(QueueNotificationDecodingError) -> QueueNotification {
        if top["Event"] != nil {
            let event = try Self.checked(what) { () throws(ShapeMismatch) in try S3TestEventFields(top).event }
            guard event == "s3:TestEvent" else {
                throw QueueNotificationDecodingError("S3 event \(event) is not s3:TestEvent")
            }
            return .testEvent
        }
        guard top["Records"] != nil else {
            throw QueueNotificationDecodingError("neither an S3 event notification, an SNS notification nor an S3 test event")
        }
        let records = try Self.checked(what) { () throws(ShapeMismatch) in try S3RecordFields.records(top) }
        guard !records.isEmpty else {
            throw QueueNotificationDecodingError("S3 event notification with no Records")
        }
        var objects: [ObjectReference] = []
        objects.reserveCapacity(records.count)
        for (index, record) in records.enumerated() {
            objects.append(try Self.objectReference(record, index: index))
        }
        return .objectsCreated(objects)
    }

    private static func objectReference(_ record: S3RecordFields, index: Int) throws(QueueNotificationDecodingError) -> ObjectReference {
        guard record.eventName.hasPrefix("ObjectCreated:") else {
            let name = record.eventName.isEmpty ? "(none)" : record.eventName
            throw QueueNotificationDecodingError("record \(index): event \(name) is not ObjectCreated")
        }
        guard !record.bucketName.isEmpty else {
            throw QueueNotificationDecodingError("record \(index): no s3.bucket.name")
        }
        guard !record.encodedKey.isEmpty else {
            throw QueueNotificationDecodingError("record \(index): no s3.object.key")
        }
        guard let key = S3EventKey.decode(record.encodedKey) else {
            throw QueueNotificationDecodingError("record \(index): s3.object.key is not URL-encoded UTF-8")
        }
        return ObjectReference(bucket: record.bucketName, key: key)
    }

    /// The text's top-level object.
    private static func object(_ text: String, what: String) throws(QueueNotificationDecodingError) -> JSONObject {
        guard case .object(let object)? = try? JSONValueReader.read(text) else { throw Self.shapeError(what) }
        return object
    }

    private static func checked<Value>(_ what: String, _ body: () throws(ShapeMismatch) -> Value) throws(QueueNotificationDecodingError) -> Value {
        do {
            return try body()
        } catch {
            throw Self.shapeError(what)
        }
    }

    private static func shapeError(_ what: String) -> QueueNotificationDecodingError {
        // The reader's message may describe the body; name the shape problem only.
        QueueNotificationDecodingError("\(what) is not a JSON object of the expected shape")
    }
}

/// A member present with a type other than the shape's.
private struct ShapeMismatch: Error {}

/// Reads members as the `Codable` shapes' lenient decoders do: absent or `null` is the default.
extension JSONObject {
    fileprivate func string(_ key: String) throws(ShapeMismatch) -> String {
        switch self[key] {
        case nil, .null?: return ""
        case .string(let value)?: return value
        default: throw ShapeMismatch()
        }
    }

    fileprivate func integer(_ key: String) throws(ShapeMismatch) -> Int {
        switch self[key] {
        case nil, .null?: return 0
        case let value?:
            guard let integer = value.integer else { throw ShapeMismatch() }
            return integer
        }
    }

    /// A nested object; an empty one when absent or `null` (every member of it takes its default).
    fileprivate func object(_ key: String) throws(ShapeMismatch) -> JSONObject {
        switch self[key] {
        case nil, .null?: return JSONObject()
        case .object(let value)?: return value
        default: throw ShapeMismatch()
        }
    }

    /// Checks that each of `keys` is absent, `null` or a string.
    fileprivate func checkStrings(_ keys: String...) throws(ShapeMismatch) {
        for key in keys { _ = try self.string(key) }
    }
}

/// `SNSNotificationEnvelope`'s members.
private struct SNSEnvelopeFields {
    var type: String
    var message: String

    init(_ object: JSONObject) throws(ShapeMismatch) {
        self.type = try object.string("Type")
        self.message = try object.string("Message")
        try object.checkStrings(
            "MessageId", "TopicArn", "Subject", "Timestamp", "SignatureVersion", "Signature", "SigningCertURL", "UnsubscribeURL")
    }
}

/// `S3TestEvent`'s members.
private struct S3TestEventFields {
    var event: String

    init(_ object: JSONObject) throws(ShapeMismatch) {
        self.event = try object.string("Event")
        try object.checkStrings("Service", "Time", "Bucket", "RequestId", "HostId")
    }
}

/// What the consumer needs of one `S3EventNotification.Record`, every other member's type checked.
private struct S3RecordFields {
    var eventName: String
    var bucketName: String
    var encodedKey: String

    /// `Records`: an array (not `null`: the notification's one required member) of records.
    static func records(_ top: JSONObject) throws(ShapeMismatch) -> [S3RecordFields] {
        guard case .array(let elements)? = top["Records"] else { throw ShapeMismatch() }
        var records: [S3RecordFields] = []
        records.reserveCapacity(elements.count)
        for element in elements {
            guard case .object(let record) = element else { throw ShapeMismatch() }
            records.append(try S3RecordFields(record))
        }
        return records
    }

    init(_ record: JSONObject) throws(ShapeMismatch) {
        self.eventName = try record.string("eventName")
        try record.checkStrings("eventVersion", "eventSource", "awsRegion", "eventTime")
        try record.object("userIdentity").checkStrings("principalId")
        try record.object("requestParameters").checkStrings("sourceIPAddress")
        try record.object("responseElements").checkStrings("x-amz-request-id", "x-amz-id-2")
        let s3 = try record.object("s3")
        try s3.checkStrings("s3SchemaVersion", "configurationId")
        let bucket = try s3.object("bucket")
        self.bucketName = try bucket.string("name")
        try bucket.checkStrings("arn")
        try bucket.object("ownerIdentity").checkStrings("principalId")
        let object = try s3.object("object")
        self.encodedKey = try object.string("key")
        _ = try object.integer("size")
        try object.checkStrings("eTag", "sequencer")
    }
}

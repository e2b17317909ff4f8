/// The body of an S3 event notification, field for field as S3 sends it (event structure
/// version 2.1). The intake writes `ObjectCreated:Put` events so that an existing consumer of
/// S3 → SQS works unchanged; the consumer reads them back, from cis or from S3 itself.
///
/// Decoding is lenient where S3's own consumers are: a field the consumer does not need may
/// be absent (it takes its default), but a field present with the wrong type is an error.
/// `QueueNotification.decode` checks the fields the consumer does need.
public struct S3EventNotification: Codable, Sendable, Equatable {
    public var records: [Record]

    public init(records: [Record]) {
        self.records = records
    }

    enum CodingKeys: String, CodingKey {
        case records = "Records"
    }

    public struct Record: Codable, Sendable, Equatable {
        public var eventVersion: String
        public var eventSource: String
        public var awsRegion: String
        /// ISO 8601 with milliseconds, UTC (`ISO8601Timestamp`).
        public var eventTime: String
        public var eventName: String
        public var userIdentity: Identity
        public var requestParameters: RequestParameters
        public var responseElements: ResponseElements
        public var s3: S3Entity

        public init(
            eventVersion: String = "2.1", eventSource: String = "aws:s3", awsRegion: String, eventTime: String,
            eventName: String = "ObjectCreated:Put", userIdentity: Identity, requestParameters: RequestParameters,
            responseElements: ResponseElements, s3: S3Entity
        ) {
            self.eventVersion = eventVersion
            self.eventSource = eventSource
            self.awsRegion = awsRegion
            self.eventTime = eventTime
            self.eventName = eventName
            self.userIdentity = userIdentity
            self.requestParameters = requestParameters
            self.responseElements = responseElements
            self.s3 = s3
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            self.eventVersion = try container.decode(String.self, forKey: .eventVersion, default: "")
            self.eventSource = try container.decode(String.self, forKey: .eventSource, default: "")
            self.awsRegion = try container.decode(String.self, forKey: .awsRegion, default: "")
            self.eventTime = try container.decode(String.self, forKey: .eventTime, default: "")
            self.eventName = try container.decode(String.self, forKey: .eventName, default: "")
            self.userIdentity = try container.decode(Identity.self, forKey: .userIdentity, default: Identity(principalId: ""))
            self.requestParameters = try container.decode(
                RequestParameters.self, forKey: .requestParameters, default: RequestParameters(sourceIPAddress: ""))
            self.responseElements = try container.decode(
                ResponseElements.self, forKey: .responseElements, default: ResponseElements(requestId: "", id2: ""))
            self.s3 = try container.decode(S3Entity.self, forKey: .s3, default: S3Entity())
        }
    }

    public struct Identity: Codable, Sendable, Equatable {
        public var principalId: String

        public init(principalId: String) {
            self.principalId = principalId
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            self.principalId = try container.decode(String.self, forKey: .principalId, default: "")
        }
    }

    public struct RequestParameters: Codable, Sendable, Equatable {
        public var sourceIPAddress: String

        public init(sourceIPAddress: String) {
            self.sourceIPAddress = sourceIPAddress
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            self.sourceIPAddress = try container.decode(String.self, forKey: .sourceIPAddress, default: "")
        }
    }

    public struct ResponseElements: Codable, Sendable, Equatable {
        public var requestId: String
        public var id2: String

        public init(requestId: String, id2: String) {
            self.requestId = requestId
            self.id2 = id2
        }

        enum CodingKeys: String, CodingKey {
            case requestId = "x-amz-request-id"
            case id2 = "x-amz-id-2"
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            self.requestId = try container.decode(String.self, forKey: .requestId, default: "")
            self.id2 = try container.decode(String.self, forKey: .id2, default: "")
        }
    }

    public struct S3Entity: Codable, Sendable, Equatable {
        public var s3SchemaVersion: String
        public var configurationId: String
        public var bucket: Bucket
        public var object: Object

        public init(
            s3SchemaVersion: String = "1.0", configurationId: String = "",
            bucket: Bucket = Bucket(name: ""), object: Object = Object(encodedKey: "")
        ) {
            self.s3SchemaVersion = s3SchemaVersion
            self.configurationId = configurationId
            self.bucket = bucket
            self.object = object
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            self.s3SchemaVersion = try container.decode(String.self, forKey: .s3SchemaVersion, default: "")
            self.configurationId = try container.decode(String.self, forKey: .configurationId, default: "")
            self.bucket = try container.decode(Bucket.self, forKey: .bucket, default: Bucket(name: ""))
            self.object = try container.decode(Object.self, forKey: .object, default: Object(encodedKey: ""))
        }
    }

    public struct Bucket: Codable, Sendable, Equatable {
        public var name: String
        public var ownerIdentity: Identity
        public var arn: String

        /// A bucket as S3 names it: its owner and `arn:aws:s3:::<name>`.
        public init(name: String, ownerPrincipalId: String = "") {
            self.name = name
            self.ownerIdentity = Identity(principalId: ownerPrincipalId)
            self.arn = name.isEmpty ? "" : "arn:aws:s3:::\(name)"
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            self.name = try container.decode(String.self, forKey: .name, default: "")
            self.ownerIdentity = try container.decode(Identity.self, forKey: .ownerIdentity, default: Identity(principalId: ""))
            self.arn = try container.decode(String.self, forKey: .arn, default: "")
        }
    }

    public struct Object: Codable, Sendable, Equatable {
        /// URL-encoded as S3 encodes keys in notifications (`S3EventKey`).
        public var encodedKey: String
        public var size: Int
        public var eTag: String
        public var sequencer: String

        /// The object stored under `key` (not yet encoded).
        public init(key: String, size: Int, eTag: String, sequencer: String) {
            self.init(encodedKey: S3EventKey.encode(key), size: size, eTag: eTag, sequencer: sequencer)
        }

        public init(encodedKey: String, size: Int = 0, eTag: String = "", sequencer: String = "") {
            self.encodedKey = encodedKey
            self.size = size
            self.eTag = eTag
            self.sequencer = sequencer
        }

        /// The key decoded; nil when the encoding is malformed.
        public var key: String? { S3EventKey.decode(self.encodedKey) }

        enum CodingKeys: String, CodingKey {
            case encodedKey = "key"
            case size, eTag, sequencer
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            self.encodedKey = try container.decode(String.self, forKey: .encodedKey, default: "")
            self.size = try container.decode(Int.self, forKey: .size, default: 0)
            self.eTag = try container.decode(String.self, forKey: .eTag, default: "")
            self.sequencer = try container.decode(String.self, forKey: .sequencer, default: "")
        }
    }

    /// The `ObjectCreated:Put` event for one stored object. `sourceIPAddress` is the SMTP
    /// client's address: the origin of the object's content.
    public static func objectCreated(
        bucketName: String, object: Object, awsRegion: String, configurationId: String, principalId: String,
        sourceIPAddress: String, eventTime: String, requestId: String, id2: String
    ) -> S3EventNotification {
        S3EventNotification(records: [
            Record(
                awsRegion: awsRegion, eventTime: eventTime,
                userIdentity: Identity(principalId: principalId),
                requestParameters: RequestParameters(sourceIPAddress: sourceIPAddress),
                responseElements: ResponseElements(requestId: requestId, id2: id2),
                s3: S3Entity(
                    configurationId: configurationId,
                    bucket: Bucket(name: bucketName, ownerPrincipalId: principalId),
                    object: object))
        ])
    }

    /// The event as `NotificationJSON.encode` writes it (keys sorted, slashes unescaped), written
    /// directly: the intake writes one for every message it accepts.
    public func json() throws -> String {
        var writer = JSONObjectWriter(reservingCapacity: 768)
        writer.field("Records", array: self.records) { writer, record in record.write(into: &writer) }
        return writer.finish()
    }
}

extension S3EventNotification.Record {
    /// The members in sorted order, nested objects' too.
    fileprivate func write(into writer: inout JSONObjectWriter) {
        writer.field("awsRegion", self.awsRegion)
        writer.field("eventName", self.eventName)
        writer.field("eventSource", self.eventSource)
        writer.field("eventTime", self.eventTime)
        writer.field("eventVersion", self.eventVersion)
        writer.field("requestParameters", object: { $0.field("sourceIPAddress", self.requestParameters.sourceIPAddress) })
        writer.field("responseElements", object: { elements in
            elements.field("x-amz-id-2", self.responseElements.id2)
            elements.field("x-amz-request-id", self.responseElements.requestId)
        })
        writer.field("s3", object: { entity in
            entity.field("bucket", object: { bucket in
                bucket.field("arn", self.s3.bucket.arn)
                bucket.field("name", self.s3.bucket.name)
                bucket.field("ownerIdentity", object: { $0.field("principalId", self.s3.bucket.ownerIdentity.principalId) })
            })
            entity.field("configurationId", self.s3.configurationId)
            entity.field("object", object: { object in
                object.field("eTag", self.s3.object.eTag)
                object.field("key", self.s3.object.encodedKey)
                object.field("sequencer", self.s3.object.sequencer)
                object.field("size", self.s3.object.size)
            })
            entity.field("s3SchemaVersion", self.s3.s3SchemaVersion)
        })
        writer.field("userIdentity", object: { $0.field("principalId", self.userIdentity.principalId) })
    }
}

/// S3's `s3:TestEvent`, sent once when a bucket notification is configured.
public struct S3TestEvent: Codable, Sendable, Equatable {
    public var service: String
    public var event: String
    public var time: String
    public var bucket: String
    public var requestId: String
    public var hostId: String

    public init(service: String = "Amazon S3", event: String = "s3:TestEvent", time: String, bucket: String, requestId: String, hostId: String) {
        self.service = service
        self.event = event
        self.time = time
        self.bucket = bucket
        self.requestId = requestId
        self.hostId = hostId
    }

    enum CodingKeys: String, CodingKey {
        case service = "Service"
        case event = "Event"
        case time = "Time"
        case bucket = "Bucket"
        case requestId = "RequestId"
        case hostId = "HostId"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.service = try container.decode(String.self, forKey: .service, default: "")
        self.event = try container.decode(String.self, forKey: .event, default: "")
        self.time = try container.decode(String.self, forKey: .time, default: "")
        self.bucket = try container.decode(String.self, forKey: .bucket, default: "")
        self.requestId = try container.decode(String.self, forKey: .requestId, default: "")
        self.hostId = try container.decode(String.self, forKey: .hostId, default: "")
    }
}

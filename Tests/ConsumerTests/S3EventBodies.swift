/// Queue message bodies in S3's event notification shape, as the drop box sends them.
enum S3EventBodies {
    static func objectCreated(bucket: String, key: String) -> String {
        """
        {"Records":[{"eventVersion":"2.1","eventSource":"aws:s3","awsRegion":"us-east-1",\
        "eventTime":"2026-11-25T15:00:00.000Z","eventName":"ObjectCreated:Put",\
        "s3":{"s3SchemaVersion":"1.0","configurationId":"cis",\
        "bucket":{"name":"\(bucket)","arn":"arn:aws:s3:::\(bucket)"},\
        "object":{"key":"\(Self.encodeKey(key))","size":1,"eTag":"00","sequencer":"01"}}}]}
        """
    }

    static let testEvent = #"{"Service":"Amazon S3","Event":"s3:TestEvent","Bucket":"cis-local"}"#

    /// S3's key encoding in notifications: unreserved bytes and `/` as they are, space as `+`,
    /// everything else `%XX`.
    static func encodeKey(_ key: String) -> String {
        var encoded = ""
        for byte in key.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"),
                UInt8(ascii: "."), UInt8(ascii: "~"), UInt8(ascii: "/"):
                encoded.unicodeScalars.append(Unicode.Scalar(byte))
            case UInt8(ascii: " "):
                encoded += "+"
            default:
                let hex = Array("0123456789ABCDEF".unicodeScalars)
                encoded += "%"
                encoded.unicodeScalars.append(hex[Int(byte >> 4)])
                encoded.unicodeScalars.append(hex[Int(byte & 0xF)])
            }
        }
        return encoded
    }
}

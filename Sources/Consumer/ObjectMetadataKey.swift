/// User metadata keys the drop box stores with each message object (S3 `x-amz-meta-<key>`).
public enum ObjectMetadataKey {
    /// The SMTP envelope sender (MAIL FROM), empty for the null sender.
    public static let envelopeSender = "mail-from"
}

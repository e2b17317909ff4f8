import AWS
import ArgumentParser
import Backends
import DropBox
import Logging
import Notifications

/// The `--backend aws` options: S3 bucket and SQS queue for the intake, SNS topics and the
/// DynamoDB table for the consumer. Each also reads the environment variable named in its help
/// (the topic and table variables are those the existing event pipeline uses). Credentials,
/// region and endpoints come from the standard AWS variables and files.
struct AWSOptions: ParsableArguments {
    enum EnvelopeKind: String, CaseIterable {
        case s3
        case sns
    }

    enum SSEKind: String, CaseIterable {
        case aes256 = "AES256"
        case kms = "aws:kms"
    }

    @Option(parsing: .unconditional, help: ArgumentHelp("S3 bucket for raw messages. Env: CIS_S3_BUCKET.", valueName: "name"))
    var bucket: String?

    @Option(parsing: .unconditional, help: ArgumentHelp("SQS queue URL for notifications. Env: SQS_URL.", valueName: "url"))
    var queueUrl: String?

    @Option(parsing: .unconditional, help: ArgumentHelp(
        "SQS dead-letter queue of --queue-url: the status page shows its depth and peeks at its messages, and /metrics has its depth; `cis dlq redrive` moves messages from it. Env: CIS_DEAD_LETTER_QUEUE_URL. Default: none.",
        valueName: "url"))
    var deadLetterQueueUrl: String?

    @Option(parsing: .unconditional, help: ArgumentHelp(
        "Notification body: the S3 event (s3), or the S3 event in an SNS envelope (sns), as S3->SNS->SQS delivers it. Env: CIS_SQS_ENVELOPE. Default: s3.",
        valueName: "s3|sns"))
    var sqsEnvelope: String?

    @Option(parsing: .unconditional, help: ArgumentHelp(
        "TopicArn named in the SNS envelope (with --sqs-envelope sns). Env: CIS_SNS_ENVELOPE_TOPIC_ARN.", valueName: "arn"))
    var snsEnvelopeTopicArn: String?

    @Flag(name: .customLong("s3-path-style"), inversion: .prefixedNo, help: ArgumentHelp(
        "Address S3 as <endpoint>/<bucket>/<key> (always when an endpoint URL is set). Env: CIS_S3_PATH_STYLE."))
    var s3PathStyle: Bool?

    @Option(name: .customLong("s3-sse"), parsing: .unconditional, help: ArgumentHelp(
        "Server-side encryption of stored messages: AES256 or aws:kms. Env: CIS_S3_SSE. Default: the bucket's.", valueName: "AES256|aws:kms"))
    var s3SSE: String?

    @Option(name: .customLong("s3-kms-key-id"), parsing: .unconditional, help: ArgumentHelp(
        "KMS key for --s3-sse aws:kms. Env: CIS_S3_KMS_KEY_ID. Default: the AWS managed key.", valueName: "key"))
    var s3KMSKeyId: String?

    @Option(parsing: .unconditional, help: ArgumentHelp(
        "How long an SQS request waits for others to share its batch call (up to 10): the intake's notifications (SendMessageBatch), the consumer's deletes (DeleteMessageBatch) and visibility changes (ChangeMessageVisibilityBatch); \(SQSBatchWindow.millisecondsRange.text) milliseconds; 0 sends each alone (SendMessage, DeleteMessage, ChangeMessageVisibility). Env: CIS_QUEUE_BATCH_WINDOW. Default: \(SQSBatchWindow.defaultMilliseconds).",
        valueName: "ms"))
    var queueBatchWindow: String?

    @Option(parsing: .unconditional, help: ArgumentHelp("SNS topic ARN of the create route. Env: NEW_EVENT_REQUEST.", valueName: "arn"))
    var topicCreate: String?

    @Option(parsing: .unconditional, help: ArgumentHelp("SNS topic ARN of the update route. Env: EVENT_UPDATE.", valueName: "arn"))
    var topicUpdate: String?

    @Option(parsing: .unconditional, help: ArgumentHelp("SNS topic ARN of the cancel route. Env: EVENT_CANCELLATION.", valueName: "arn"))
    var topicCancel: String?

    @Option(parsing: .unconditional, help: ArgumentHelp("SNS topic ARN of the failure route. Env: FAILED_EVENT_CREATE.", valueName: "arn"))
    var topicFailure: String?

    @Option(parsing: .unconditional, help: ArgumentHelp("SNS topic ARN of the reply route. Env: NEW_EVENT_REPLY.", valueName: "arn"))
    var topicReply: String?

    @Option(parsing: .unconditional, help: ArgumentHelp(
        "DynamoDB table of the existing pipeline, for --event-index dynamodb. Env: DYNAMODB_TABLE.", valueName: "name"))
    var eventTable: String?

    @Option(parsing: .unconditional, help: ArgumentHelp(
        "DynamoDB table of the publish ledger shared by every consumer, with --event-index dynamodb (items pk = sk = \(DynamoDBPublishLedger.keyPrefix)..., TTL attribute \(DynamoDBPublishLedger.expiryAttribute)). Env: CIS_PUBLISH_LEDGER_TABLE. Default: the --event-table.",
        valueName: "name"))
    var publishLedgerTable: String?

    @Option(parsing: .unconditional, help: ArgumentHelp(
        "Days a publish stays in the DynamoDB publish ledger before its TTL expires it, \(DynamoDBPublishLedger.retentionDaysRange.text) (SQS keeps a message at most 14). Env: CIS_PUBLISH_LEDGER_RETENTION. Default: \(DynamoDBPublishLedger.defaultRetentionDays).",
        valueName: "days"))
    var publishLedgerRetention: String?

    func bucketName(_ settings: Settings) throws(ConfigurationError) -> String {
        try Self.required(self.bucket, flag: "--bucket", variable: "CIS_S3_BUCKET", settings)
    }

    func queueURL(_ settings: Settings) throws(ConfigurationError) -> String {
        let url = try Self.required(self.queueUrl, flag: "--queue-url", variable: "SQS_URL", settings)
        guard (try? AWSEndpoint(url: url)) != nil else {
            let source = settings.raw(self.queueUrl, flag: "--queue-url", variable: "SQS_URL")?.source ?? "--queue-url"
            throw ConfigurationError(source: source, problem: "'\(url)' is not an http(s) queue URL")
        }
        return url
    }

    /// The SQS dead-letter queue, when one is named.
    func deadLetterQueueURL(_ settings: Settings) throws(ConfigurationError) -> String? {
        guard let url = settings.string(self.deadLetterQueueUrl, flag: "--dead-letter-queue-url", variable: "CIS_DEAD_LETTER_QUEUE_URL")
        else { return nil }
        guard (try? AWSEndpoint(url: url)) != nil else {
            let source = settings.raw(self.deadLetterQueueUrl, flag: "--dead-letter-queue-url", variable: "CIS_DEAD_LETTER_QUEUE_URL")?.source
            throw ConfigurationError(source: source ?? "--dead-letter-queue-url", problem: "'\(url)' is not an http(s) queue URL")
        }
        return url
    }

    /// The SQS batching window (sends, deletes, visibility changes); nil when it is 0 (no batching).
    func queueBatchWindow(_ settings: Settings) throws(ConfigurationError) -> Duration? {
        let milliseconds = try settings.value(
            self.queueBatchWindow, flag: "--queue-batch-window", variable: "CIS_QUEUE_BATCH_WINDOW",
            default: SQSBatchWindow.defaultMilliseconds, parse: Parse.integer(in: SQSBatchWindow.millisecondsRange))
        return milliseconds == 0 ? nil : .milliseconds(milliseconds)
    }

    func envelope(_ settings: Settings) throws(ConfigurationError) -> DropBoxConfiguration.Envelope {
        let kind: EnvelopeKind = try settings.value(
            self.sqsEnvelope, flag: "--sqs-envelope", variable: "CIS_SQS_ENVELOPE", default: .s3, parse: Parse.oneOf)
        switch kind {
        case .s3:
            return .s3
        case .sns:
            let topicArn = try Self.required(
                self.snsEnvelopeTopicArn, flag: "--sns-envelope-topic-arn", variable: "CIS_SNS_ENVELOPE_TOPIC_ARN", settings,
                purpose: "with --sqs-envelope sns")
            return .sns(topicArn: topicArn)
        }
    }

    func serverSideEncryption(_ settings: Settings) throws(ConfigurationError) -> S3Client.ServerSideEncryption? {
        let kind: SSEKind? = try settings.value(self.s3SSE, flag: "--s3-sse", variable: "CIS_S3_SSE", default: nil) {
            (text: String) throws(SettingProblem) -> SSEKind? in
            try Parse.oneOf(text) as SSEKind
        }
        let keyId = settings.string(self.s3KMSKeyId, flag: "--s3-kms-key-id", variable: "CIS_S3_KMS_KEY_ID")
        switch kind {
        case nil:
            if keyId != nil { throw ConfigurationError(source: "--s3-kms-key-id", problem: "needs --s3-sse aws:kms") }
            return nil
        case .aes256:
            if keyId != nil { throw ConfigurationError(source: "--s3-kms-key-id", problem: "needs --s3-sse aws:kms, not AES256") }
            return .aes256
        case .kms:
            return .kms(keyId: keyId)
        }
    }

    func pathStyle(_ settings: Settings) throws(ConfigurationError) -> Bool {
        try settings.flag(self.s3PathStyle, flag: "--s3-path-style", variable: "CIS_S3_PATH_STYLE")
    }

    /// Every route's topic: the consumer may publish to any of them.
    func topics(_ settings: Settings) throws(ConfigurationError) -> [Route: String] {
        let options: [(Route, String?, String, String)] = [
            (.create, self.topicCreate, "--topic-create", "NEW_EVENT_REQUEST"),
            (.update, self.topicUpdate, "--topic-update", "EVENT_UPDATE"),
            (.cancel, self.topicCancel, "--topic-cancel", "EVENT_CANCELLATION"),
            (.failure, self.topicFailure, "--topic-failure", "FAILED_EVENT_CREATE"),
            (.reply, self.topicReply, "--topic-reply", "NEW_EVENT_REPLY"),
        ]
        var topics: [Route: String] = [:]
        for (route, value, flag, variable) in options {
            let arn = try Self.required(value, flag: flag, variable: variable, settings, purpose: "for the consumer with --backend aws")
            guard arn.hasPrefix("arn:") else { throw ConfigurationError(source: flag, problem: "'\(arn)' is not a topic ARN") }
            topics[route] = arn
        }
        return topics
    }

    func eventTableName(_ settings: Settings) throws(ConfigurationError) -> String {
        try Self.required(self.eventTable, flag: "--event-table", variable: "DYNAMODB_TABLE", settings, purpose: "with --event-index dynamodb")
    }

    /// With `--event-index dynamodb`: the ledger's table (the event table unless set) and its retention in days.
    func publishLedger(_ settings: Settings, eventTable: String) throws(ConfigurationError) -> (table: String, retentionDays: Int) {
        let table = try settings.value(
            self.publishLedgerTable, flag: "--publish-ledger-table", variable: "CIS_PUBLISH_LEDGER_TABLE", default: eventTable,
            parse: Parse.dynamoDBTableName)
        return (table, try self.publishLedgerRetentionDays(settings))
    }

    func publishLedgerRetentionDays(_ settings: Settings) throws(ConfigurationError) -> Int {
        try settings.value(
            self.publishLedgerRetention, flag: "--publish-ledger-retention", variable: "CIS_PUBLISH_LEDGER_RETENTION",
            default: DynamoDBPublishLedger.defaultRetentionDays, parse: Parse.integer(in: DynamoDBPublishLedger.retentionDaysRange))
    }

    /// Region, credentials and endpoints, resolved once: a missing region or missing
    /// credentials stop the program here with one line.
    static func services(logger: Logger) async throws(ConfigurationError) -> AWSServices {
        CurlLibrary.initialize()
        do {
            return try await AWSServices.resolve(transport: CurlTransport(), logger: logger)
        } catch {
            throw ConfigurationError(source: "AWS", problem: "\(error)")
        }
    }

    /// The region from the environment or profile (for the events' `awsRegion`), without credentials.
    static func region() -> String? {
        try? AWSEnvironment().region()
    }

    private static func required(
        _ flagValue: String?, flag: String, variable: String, _ settings: Settings, purpose: String = "with --backend aws"
    ) throws(ConfigurationError) -> String {
        guard let value = settings.string(flagValue, flag: flag, variable: variable) else {
            throw ConfigurationError(source: flag, problem: "required \(purpose) (or set \(variable))")
        }
        return value
    }
}

extension Parse {
    /// DynamoDB's rule for table names: 3 to 255 of `A-Z a-z 0-9 _ - .`.
    static func dynamoDBTableName(_ text: String) throws(SettingProblem) -> String {
        let allowed = text.utf8.allSatisfy { byte in
            (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte) || [0x5F, 0x2D, 0x2E].contains(byte)
        }
        guard (3...255).contains(text.utf8.count), allowed else {
            throw SettingProblem("is not a DynamoDB table name (3 to 255 letters, digits, '_', '-' or '.')")
        }
        return text
    }
}

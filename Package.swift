// swift-tools-version:6.1
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "cis",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "cis", targets: ["cis"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1", traits: []),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
    ],
    targets: [
        // C libraries, each through a system-library target with a small shim header.
        .systemLibrary(
            name: "CLibical", pkgConfig: "libical",
            providers: [.apt(["libical-dev"])]),
        .systemLibrary(
            name: "CGMime", pkgConfig: "gmime-3.0",
            providers: [.apt(["libgmime-3.0-dev"])]),
        .systemLibrary(
            name: "CCurl", pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(
            name: "CSQLite", pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(
            name: "CLibcrypto", pkgConfig: "libcrypto",
            providers: [.apt(["libssl-dev"])]),
        // Sender authentication: SPF (libspf2 has no pkg-config file), DKIM, DMARC, and the DNS resolver.
        .systemLibrary(
            name: "CSPF2",
            providers: [.apt(["libspf2-dev"])]),
        .systemLibrary(
            name: "COpenDKIM", pkgConfig: "opendkim",
            providers: [.apt(["libopendkim-dev"])]),
        .systemLibrary(
            name: "COpenDMARC",
            providers: [.apt(["libopendmarc-dev"])]),
        .systemLibrary(
            name: "CUnbound", pkgConfig: "libunbound",
            providers: [.apt(["libunbound-dev"])]),

        // syncfs(2) and flock(2), which Swift's Glibc module does not import as functions.
        .target(name: "CFileSync"),

        // prctl(2) for the parse workers (dying with the consumer), which Swift does not import.
        .target(name: "CProcessControl"),

        // The parse worker's memory limit (RLIMIT_DATA) and the malloc wrappers that tell its
        // allocation failures from other crashes; linked into the cis executable only.
        .target(name: "CMemoryLimit"),

        // MD5, SHA-256 and HMAC over OpenSSL's libcrypto.
        .target(
            name: "Digest",
            dependencies: ["CLibcrypto"],
            swiftSettings: swiftSettings),

        // What travels between intake and consumer: the S3 event, the SNS envelope, object
        // metadata keys, the key encoding, the route. Foundation only.
        .target(
            name: "Notifications",
            swiftSettings: swiftSettings),

        // File descriptors, paths, segmented bodies (memory or file ranges) and their digests.
        // Sender authentication's value types and the verifier contract (SPF, DKIM, DMARC, ARC).
        .target(name: "SenderAuthentication"),
        // SPF, DKIM and DMARC through libspf2, libopendkim and libopendmarc, all DNS through one libunbound resolver.
        .target(
            name: "SenderVerification",
            dependencies: ["SenderAuthentication", "CSPF2", "COpenDKIM", "COpenDMARC", "CUnbound", "BlockingWork"],
            swiftSettings: swiftSettings),
        .target(
            name: "FileIO",
            dependencies: ["CFileSync", "Digest"],
            swiftSettings: swiftSettings),

        // The process-wide NIOThreadPool for blocking calls, and group commit (Batcher) on it.
        .target(
            name: "BlockingWork",
            dependencies: [.product(name: "NIOPosix", package: "swift-nio")],
            swiftSettings: swiftSettings),

        // SMTP grammar, session state machine and the MessageSink contract: pure, no I/O.
        .target(
            name: "SMTPCore",
            dependencies: [.product(name: "NIOCore", package: "swift-nio")],
            swiftSettings: swiftSettings),

        // The NIO listener: framing, DATA, STARTTLS, limits, timeouts, shutdown.
        .target(
            name: "SMTPServer",
            dependencies: [
                "SMTPCore", "FileIO", "BlockingWork",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: swiftSettings),

        // SigV4, credentials, libcurl transport, S3/SQS/SNS/DynamoDB clients. Knows nothing of mail.
        .target(
            name: "AWS",
            dependencies: [
                "CCurl", "Digest", "FileIO", "BlockingWork",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings),

        // ObjectStore, MessageQueue, TopicPublisher, EventIndex, PublishLedger: protocols, embedded and AWS implementations.
        .target(
            name: "Backends",
            dependencies: [
                "AWS", "CSQLite", "Digest", "FileIO", "BlockingWork", "Notifications",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: swiftSettings),

        // The MessageSink: message id, Received header, object write, S3-event notification.
        .target(
            name: "DropBox",
            dependencies: [
                "SMTPCore", "Backends", "Digest", "FileIO", "Notifications",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: swiftSettings),

        // Finding and parsing the invite: GMime, libical, the standardized event request, classification.
        .target(
            name: "Invites",
            dependencies: ["CGMime", "CLibical", "Notifications", "SenderAuthentication"],
            swiftSettings: swiftSettings),

        // Queue worker: poll, fetch, parse, publish, delete.
        .target(
            name: "Consumer",
            dependencies: [
                "Backends", "Invites", "BlockingWork", "Notifications", "CProcessControl", "SenderAuthentication",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: swiftSettings),

        // The HTTP side port (hummingbird): /metrics (Prometheus), /healthz, /readyz, the status page
        // and its JSON API; the activity ring buffer; systemd's sd_notify. Only `cis` imports it.
        .target(
            name: "Operations",
            dependencies: [
                "BlockingWork", "Notifications",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings),

        .executableTarget(
            name: "cis",
            dependencies: [
                "Operations",
                "SMTPServer", "SMTPCore", "DropBox", "Backends", "AWS", "Invites", "Consumer", "Notifications", "CProcessControl",
                "SenderAuthentication", "SenderVerification", "CMemoryLimit",
                "BlockingWork", "FileIO",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: swiftSettings),

        // Group commit vs fsync-per-message throughput of the drop box (`make bench`).
        .executableTarget(
            name: "cis-bench",
            dependencies: [
                "DropBox", "Backends", "SMTPCore", "FileIO",
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "bench/CISBench",
            swiftSettings: swiftSettings),

        // libFuzzer's driver entry point, declared for cis-fuzz (defined only under -sanitize=fuzzer).
        .target(name: "CFuzzDriver", path: "Tests/Fuzz/CFuzzDriver"),
        // The fuzz targets (docs/fuzzing.md): libFuzzer under scripts/fuzz.sh, a corpus replayer otherwise.
        .executableTarget(
            name: "cis-fuzz",
            dependencies: [
                "CFuzzDriver", "SMTPCore", "SMTPServer", "Backends", "Notifications", "Invites",
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "Tests/Fuzz/CISFuzz",
            swiftSettings: swiftSettings),

        .testTarget(
            name: "NotificationsTests",
            dependencies: ["Notifications"],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "SenderAuthenticationTests",
            dependencies: ["SenderAuthentication"],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "SenderVerificationTests",
            dependencies: ["SenderVerification", "SenderAuthentication"],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "SMTPCoreTests",
            dependencies: ["SMTPCore"],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "SMTPServerTests",
            dependencies: [
                "TestSupport", "SMTPServer", "SMTPCore", "DropBox", "Backends",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTestUtils", package: "swift-nio"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "InMemoryLogging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "DigestTests",
            dependencies: ["Digest"],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "FileIOTests",
            dependencies: ["TestSupport", "FileIO", "BlockingWork", "Digest"],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "AWSTests",
            dependencies: ["TestSupport", "AWS", "Digest", "FileIO", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings),
        // Helpers shared by the test targets: temporary directories, loopback ports, the shared-data lookup.
        .target(
            name: "TestSupport",
            path: "Tests/TestSupport",
            swiftSettings: swiftSettings),
        .testTarget(
            name: "BackendsTests",
            dependencies: [
                "TestSupport", "Backends", "AWS", "BlockingWork", "FileIO", "Notifications",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "DropBoxTests",
            dependencies: ["TestSupport", "DropBox", "Backends", "SMTPCore", "FileIO", "Digest", "Notifications"],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "InvitesTests",
            dependencies: ["TestSupport", "Invites", "Notifications", "SenderAuthentication"],
            resources: [.copy("Fixtures")],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "OperationsTests",
            dependencies: [
                "TestSupport", "Operations", "Notifications",
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "ConsumerTests",
            dependencies: [
                "TestSupport", "Consumer", "Backends", "Invites", "DropBox", "SMTPCore", "FileIO", "Notifications",
                "SenderAuthentication",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "InMemoryLogging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings),
    ]
)

import ArgumentParser

/// Where messages and notifications go. The `aws` backend's own options live in their own file.
struct BackendOptions: ParsableArguments {
    enum Kind: String, CaseIterable {
        /// Embedded: files and SQLite under `--data-dir`.
        case local
        /// S3 and SQS (or endpoints speaking their APIs).
        case aws
    }

    @Option(parsing: .unconditional, help: ArgumentHelp("Storage backend: local or aws. Env: CIS_BACKEND. Default: local.", valueName: "local|aws"))
    var backend: String?

    @Option(parsing: .unconditional, help: ArgumentHelp(
        "Data directory of the local backend (objects/, queue.sqlite, topics/) and the spool. Env: CIS_DATA_DIR. Default: ./cis-data.",
        valueName: "path"))
    var dataDir: String?

    @Option(parsing: .unconditional, help: ArgumentHelp("Object key prefix. Env: CIS_S3_PREFIX. Default: inbound/.", valueName: "prefix"))
    var prefix: String?

    @OptionGroup(title: "AWS backend") var aws: AWSOptions

    func kind(_ settings: Settings) throws(ConfigurationError) -> Kind {
        try settings.value(self.backend, flag: "--backend", variable: "CIS_BACKEND", default: .local, parse: Parse.oneOf)
    }

    func dataDirectory(_ settings: Settings) -> String {
        settings.string(self.dataDir, flag: "--data-dir", variable: "CIS_DATA_DIR") ?? "./cis-data"
    }

    func keyPrefix(_ settings: Settings) throws(ConfigurationError) -> String {
        try settings.value(self.prefix, flag: "--prefix", variable: "CIS_S3_PREFIX", default: "inbound/") {
            (text: String) throws(SettingProblem) -> String in
            let safe = text.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F } && !text.hasPrefix("/")
                && !text.split(separator: "/").contains("..")
            guard safe else { throw SettingProblem("is not a key prefix (printable ASCII, no leading /, no ..)") }
            return text
        }
    }
}

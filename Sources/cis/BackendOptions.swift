import ArgumentParser
import DropBox

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

    static let defaultDataDirectory = "./cis-data"

    @Option(parsing: .unconditional, help: ArgumentHelp(
        "Data directory of the local backend (objects/, queue.sqlite, topics/) and the spool. Env: CIS_DATA_DIR. Default: \(Self.defaultDataDirectory).",
        valueName: "path"))
    var dataDir: String?

    @Option(parsing: .unconditional, help: ArgumentHelp(
        "Object key prefix: the start of every key the object store accepts (no leading /, no empty or dot-first component). Env: CIS_S3_PREFIX. Default: \(DropBoxConfiguration.defaultKeyPrefix).",
        valueName: "prefix"))
    var prefix: String?

    @OptionGroup(title: "AWS backend") var aws: AWSOptions

    func kind(_ settings: Settings) throws(ConfigurationError) -> Kind {
        try settings.value(self.backend, flag: "--backend", variable: "CIS_BACKEND", default: .local, parse: Parse.oneOf)
    }

    func dataDirectory(_ settings: Settings) -> String {
        settings.string(self.dataDir, flag: "--data-dir", variable: "CIS_DATA_DIR") ?? Self.defaultDataDirectory
    }

    func keyPrefix(_ settings: Settings) throws(ConfigurationError) -> String {
        try settings.value(self.prefix, flag: "--prefix", variable: "CIS_S3_PREFIX", default: DropBoxConfiguration.defaultKeyPrefix) {
            (text: String) throws(SettingProblem) -> String in
            do throws(DropBoxConfigurationError) {
                try DropBoxConfiguration.validateKeyPrefix(text)
            } catch {
                throw SettingProblem(error.problem)
            }
            return text
        }
    }
}

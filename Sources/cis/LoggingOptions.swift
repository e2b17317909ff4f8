import ArgumentParser
import Logging

struct LoggingOptions: ParsableArguments {
    enum Format: String, CaseIterable {
        /// One human-readable line per event.
        case text
        /// One JSON object per line.
        case json
    }

    enum Level: String, CaseIterable {
        case trace, debug, info, notice, warning, error, critical
    }

    @Option(parsing: .unconditional, help: ArgumentHelp("Log format: text or json. Env: CIS_LOG_FORMAT. Default: text.", valueName: "text|json"))
    var logFormat: String?

    @Option(parsing: .unconditional, help: ArgumentHelp(
        "Lowest level logged: trace, debug, info, notice, warning, error, critical. Env: CIS_LOG_LEVEL. Default: info.",
        valueName: "level"))
    var logLevel: String?

    /// Sends every logger to standard error in the chosen format. Call once, first.
    func bootstrap(_ settings: Settings) throws(ConfigurationError) {
        let format: Format = try settings.value(
            self.logFormat, flag: "--log-format", variable: "CIS_LOG_FORMAT", default: .text, parse: Parse.oneOf)
        let level: Level = try settings.value(
            self.logLevel, flag: "--log-level", variable: "CIS_LOG_LEVEL", default: .info, parse: Parse.oneOf)
        let logLevel = Logger.Level(rawValue: level.rawValue) ?? .info
        LoggingSystem.bootstrap { label in
            var handler: any LogHandler
            switch format {
            case .text: handler = StreamLogHandler.standardError(label: label)
            case .json: handler = JSONLogHandler(label: label)
            }
            handler.logLevel = logLevel
            return handler
        }
    }
}

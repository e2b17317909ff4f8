import Foundation

/// A bad option value, reported at start as one line naming the option and the problem.
struct ConfigurationError: Error, CustomStringConvertible {
    /// `--flag` or `CIS_VARIABLE`, whichever supplied the value.
    var source: String
    var problem: String

    var description: String { "\(self.source): \(self.problem)" }
}

/// Reads an option from its flag, else from its environment variable, else its default,
/// and validates it the same way whichever way it came. (swift-argument-parser has no
/// environment support.)
struct Settings {
    var environment: [String: String]

    init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.environment = environment
    }

    /// The raw value and where it came from; an empty environment variable counts as unset.
    func raw(_ flagValue: String?, flag: String, variable: String) -> (value: String, source: String)? {
        if let flagValue {
            return (flagValue, flag)
        }
        if let value = self.environment[variable], !value.isEmpty {
            return (value, variable)
        }
        return nil
    }

    func value<T>(
        _ flagValue: String?, flag: String, variable: String, default defaultValue: T,
        parse: (String) throws(SettingProblem) -> T
    ) throws(ConfigurationError) -> T {
        guard let (value, source) = self.raw(flagValue, flag: flag, variable: variable) else {
            return defaultValue
        }
        do {
            return try parse(value)
        } catch {
            throw ConfigurationError(source: source, problem: "'\(value)' \(error.problem)")
        }
    }

    /// An optional string option without validation.
    func string(_ flagValue: String?, flag: String, variable: String) -> String? {
        self.raw(flagValue, flag: flag, variable: variable)?.value
    }

    /// A `--flag`/`--no-flag` pair with a boolean variable (`true`/`false`, `1`/`0`, `yes`/`no`).
    func flag(_ flagValue: Bool?, flag: String, variable: String) throws(ConfigurationError) -> Bool {
        if let flagValue {
            return flagValue
        }
        return try self.value(nil, flag: flag, variable: variable, default: false, parse: Parse.boolean)
    }
}

/// Why a value was refused, completing "'<value>' ...".
struct SettingProblem: Error {
    var problem: String

    init(_ problem: String) {
        self.problem = problem
    }
}

/// Parsers for option values.
enum Parse {
    static func positiveInteger(_ text: String) throws(SettingProblem) -> Int {
        guard let number = Int(text), number > 0 else {
            throw SettingProblem("is not a positive whole number")
        }
        return number
    }

    /// A whole number, 0 allowed (where 0 turns a limit off).
    static func nonNegativeInteger(_ text: String) throws(SettingProblem) -> Int {
        guard let number = Int(text), number >= 0 else {
            throw SettingProblem("is not a whole number (0 or more)")
        }
        return number
    }

    /// Seconds, whole or decimal, greater than zero.
    static func seconds(_ text: String) throws(SettingProblem) -> Double {
        guard let seconds = Double(text), seconds.isFinite, seconds > 0, seconds <= 86_400 * 7 else {
            throw SettingProblem("is not a number of seconds between 0 and 604800")
        }
        return seconds
    }

    static func boolean(_ text: String) throws(SettingProblem) -> Bool {
        switch text.lowercased() {
        case "1", "true", "yes", "on": return true
        case "0", "false", "no", "off": return false
        default: throw SettingProblem("is not a boolean (true/false, 1/0, yes/no)")
        }
    }

    static func oneOf<T: RawRepresentable<String> & CaseIterable>(_ text: String) throws(SettingProblem) -> T {
        guard let value = T(rawValue: text) else {
            throw SettingProblem("is not one of \(T.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return value
    }
}

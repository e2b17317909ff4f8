import Foundation

/// The shared `credentials` and `config` files (INI): sections of `key = value` lines.
///
/// In the config file a profile's section is `[profile name]` (except `[default]`);
/// in the credentials file it is `[name]`. Keys compare lower-cased.
public struct AWSProfileFile: Sendable, Equatable {
    public enum Kind: Sendable {
        case credentials
        case config
    }

    /// Profile name → settings.
    public var profiles: [String: [String: String]]

    public init(profiles: [String: [String: String]]) {
        self.profiles = profiles
    }

    public init(parsing text: String, kind: Kind) {
        var profiles: [String: [String: String]] = [:]
        var current: String?
        for rawLine in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) {
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("[") {
                guard let close = line.firstIndex(of: "]") else { current = nil; continue }
                let name = line[line.index(after: line.startIndex)..<close].trimmingCharacters(in: .whitespaces)
                current = Self.profileName(section: name, kind: kind)
                if let current { profiles[current, default: [:]] = profiles[current] ?? [:] }
                continue
            }
            // Indented lines continue a nested block (e.g. `s3 =` sub-settings): not needed here.
            if rawLine.first == " " || rawLine.first == "\t" { continue }
            guard let current, let equals = line.firstIndex(of: "=") else { continue }
            let key = line[..<equals].trimmingCharacters(in: .whitespaces).lowercased()
            var value = line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            if let comment = value.range(of: " #") ?? value.range(of: " ;") {
                value = value[..<comment.lowerBound].trimmingCharacters(in: .whitespaces)
            }
            profiles[current, default: [:]][key] = value
        }
        self.profiles = profiles
    }

    /// Reads the file; a missing file is an empty file (as for the SDKs).
    public static func load(path: String, kind: Kind) throws -> AWSProfileFile {
        guard FileManager.default.fileExists(atPath: path) else { return AWSProfileFile(profiles: [:]) }
        do {
            return AWSProfileFile(parsing: try String(contentsOfFile: path, encoding: .utf8), kind: kind)
        } catch {
            throw AWSConfigurationError("cannot read AWS \(kind) file \(path): \(error)")
        }
    }

    private static func profileName(section: String, kind: Kind) -> String? {
        switch kind {
        case .credentials:
            return section
        case .config:
            if section == "default" { return "default" }
            let parts = section.split(separator: " ", maxSplits: 1)
            guard parts.count == 2, parts[0] == "profile" else { return nil }
            return parts[1].trimmingCharacters(in: .whitespaces)
        }
    }
}

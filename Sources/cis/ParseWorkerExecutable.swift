import Foundation

/// The path of the running `cis` binary, which the parse workers are started from.
enum ParseWorkerExecutable {
    static func path() throws(ConfigurationError) -> String {
        do {
            return try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        } catch {
            throw ConfigurationError(source: "parse worker", problem: "cannot find the cis binary through /proc/self/exe: \(error)")
        }
    }
}

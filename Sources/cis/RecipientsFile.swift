import Foundation
import SMTPCore

/// `--recipients-file`: the accepted recipients, one address per line; blank lines and lines
/// starting with `#` are skipped. Read at start and again on SIGHUP.
enum RecipientsFile {
    /// Larger files are refused (a million bytes hold some 30,000 addresses).
    static let maximumSize = 1 << 20

    struct Problem: Error, CustomStringConvertible {
        var description: String
    }

    static func read(_ path: String) throws(Problem) -> [String] {
        let data: Data
        do {
            let attributes = try FileManager.default.attributesOfItem(atPath: path)
            if let size = attributes[.size] as? Int, size > Self.maximumSize {
                throw Problem(description: "\(path): \(size) bytes, more than \(Self.maximumSize)")
            }
            guard attributes[.type] as? FileAttributeType == .typeRegular else {
                throw Problem(description: "\(path): not a regular file")
            }
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch let problem as Problem {
            throw problem
        } catch {
            throw Problem(description: "\(path): cannot be read (\((error as NSError).localizedDescription))")
        }
        guard data.count <= Self.maximumSize, let text = String(data: data, encoding: .utf8) else {
            throw Problem(description: "\(path): not UTF-8 text of at most \(Self.maximumSize) bytes")
        }
        var addresses: [String] = []
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let address = line.trimmingCharacters(in: .whitespaces.union(CharacterSet(charactersIn: "\r")))
            if address.isEmpty || address.hasPrefix("#") { continue }
            do {
                _ = try Mailbox.parse(address)
            } catch {
                throw Problem(description: "\(path) line \(index + 1): '\(address)' is not an address (\(error.reason))")
            }
            addresses.append(address)
        }
        guard !addresses.isEmpty else { throw Problem(description: "\(path): no address in the file") }
        return addresses
    }
}

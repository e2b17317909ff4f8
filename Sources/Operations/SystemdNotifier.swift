#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// systemd's `sd_notify(3)` without libsystemd: one datagram per state line on the
/// `AF_UNIX` socket named by `NOTIFY_SOCKET` (a leading `@` names an abstract socket).
/// Sent with `MSG_DONTWAIT`, so a full or missing receiver is an error, never a wait.
public struct SystemdNotifier: Sendable {
    public enum NotifyError: Error, Equatable, CustomStringConvertible {
        case pathTooLong(String)
        case system(call: String, errno: Int32)

        public var description: String {
            switch self {
            case .pathTooLong(let path): "NOTIFY_SOCKET '\(path)' is longer than a socket path may be"
            case .system(let call, let code): "\(call): \(String(cString: strerror(code)))"
            }
        }
    }

    /// The socket path as systemd passes it (`/run/systemd/notify`, or `@name` for the abstract namespace).
    public let socketPath: String

    public init(socketPath: String) {
        self.socketPath = socketPath
    }

    /// `NOTIFY_SOCKET` from `environment`, or nil when the process was not started by systemd with `Type=notify`.
    public init?(environment: [String: String]) {
        guard let path = environment["NOTIFY_SOCKET"], !path.isEmpty else { return nil }
        self.init(socketPath: path)
    }

    /// Sends `state` (lines such as `READY=1`, `WATCHDOG=1`, `STATUS=…`).
    public func notify(_ state: String) throws(NotifyError) {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var pathBytes = Array(self.socketPath.utf8)
        if pathBytes.first == UInt8(ascii: "@") { pathBytes[0] = 0 }
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard pathBytes.count < capacity else { throw .pathTooLong(self.socketPath) }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: pathBytes)
        }
        let length = socklen_t(MemoryLayout<sockaddr_un>.offset(of: \.sun_path)! + pathBytes.count)

        #if canImport(Darwin)
        let descriptor = socket(AF_UNIX, SOCK_DGRAM, 0)
        #else
        let descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        #endif
        guard descriptor >= 0 else { throw .system(call: "socket", errno: errno) }
        defer { close(descriptor) }
        let payload = Array(state.utf8)
        let sent = payload.withUnsafeBytes { bytes in
            withUnsafePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                    sendto(descriptor, bytes.baseAddress, bytes.count, Int32(MSG_DONTWAIT | MSG_NOSIGNAL), socketAddress, length)
                }
            }
        }
        guard sent == payload.count else { throw .system(call: "sendto", errno: errno) }
    }

    /// The watchdog interval systemd expects `WATCHDOG=1` within, from `WATCHDOG_USEC` (and
    /// `WATCHDOG_PID`, which must name this process when set); nil when there is no watchdog.
    public static func watchdogInterval(environment: [String: String], processID: Int32) -> Duration? {
        guard let text = environment["WATCHDOG_USEC"], let microseconds = UInt64(text), microseconds > 0 else {
            return nil
        }
        if let pid = environment["WATCHDOG_PID"], !pid.isEmpty, Int32(pid) != processID { return nil }
        return .microseconds(Int64(clamping: microseconds))
    }
}

import CUnbound
import Foundation

/// The process's DNS resolver: one libunbound context (its own cache), forwarding to
/// `--dns-server` or to the resolv.conf servers. Every SPF, DKIM and DMARC lookup goes
/// through it. The only file that imports libunbound.
///
/// `@unchecked Sendable`: libunbound locks its context internally, so `ub_resolve_async`,
/// `ub_process` and `ub_cancel` may be called from several threads at once (the context is
/// created with `ub_ctx_async(ctx, 1)`, its worker is a thread).
public final class UnboundResolver: DNSResolving, @unchecked Sendable {
    private let context: OpaquePointer

    public struct SetupError: Error, CustomStringConvertible {
        public var description: String
    }

    /// - Parameters:
    ///   - forwarder: every query goes to this server (recursion desired); nil: the
    ///     resolv.conf servers.
    ///   - cacheBytes: libunbound's message and RRset cache, each.
    public init(forwarder: DNSServerAddress?, cacheBytes: Int) throws(SetupError) {
        guard let context = ub_ctx_create() else {
            throw SetupError(description: "libunbound: cannot create a resolver context")
        }
        self.context = context
        func check(_ status: Int32, _ what: String) throws(SetupError) {
            guard status == 0 else {
                ub_ctx_delete(context)
                throw SetupError(description: "libunbound: \(what): \(String(cString: ub_strerror(status)))")
            }
        }
        try check(ub_ctx_async(context, 1), "async mode")
        // A forwarder on loopback (a local cache such as systemd-resolved, or a test server).
        try check(ub_ctx_set_option(context, "do-not-query-localhost:", "no"), "do-not-query-localhost")
        try check(ub_ctx_set_option(context, "msg-cache-size:", String(cacheBytes)), "msg-cache-size")
        try check(ub_ctx_set_option(context, "rrset-cache-size:", String(cacheBytes)), "rrset-cache-size")
        // Records in the order the server sent them: libspf2 checks only the first 10 MX or
        // PTR names, so a rotated order (libunbound 1.17's default) made the same DNS data give
        // pass on one try and permerror on the retry.
        try check(ub_ctx_set_option(context, "rrset-roundrobin:", "no"), "rrset-roundrobin")
        if let forwarder {
            try check(ub_ctx_set_fwd(context, forwarder.unboundText), "forwarder \(forwarder)")
            // Every name is the forwarder's to answer, reverse zones of private and
            // documentation networks too (libunbound answers those itself by default).
            try check(ub_ctx_set_option(context, "unblock-lan-zones:", "yes"), "unblock-lan-zones")
            try check(ub_ctx_set_option(context, "insecure-lan-zones:", "yes"), "insecure-lan-zones")
            for zone in Self.documentationReverseZones {
                try check(ub_ctx_set_option(context, "local-zone:", "\(zone) nodefault"), "local-zone \(zone)")
            }
        } else {
            try check(ub_ctx_resolvconf(context, nil), "reading /etc/resolv.conf")
        }
    }

    deinit {
        ub_ctx_delete(self.context)
    }

    /// Bytes libunbound's message and RRset caches are bounded to, as libunbound reports them
    /// (past them it evicts the least recently used entries).
    public var cacheSizes: (messages: Int?, rrsets: Int?) {
        func option(_ name: String) -> Int? {
            var text: UnsafeMutablePointer<CChar>?
            guard ub_ctx_get_option(self.context, name, &text) == 0, let text else { return nil }
            defer { free(text) }
            return Int(String(cString: text).trimmingCharacters(in: .whitespacesAndNewlines))
        }
        return (option("msg-cache-size"), option("rrset-cache-size"))
    }

    /// RFC 5737 and RFC 3849 networks, which libunbound serves as empty local zones by default.
    private static let documentationReverseZones = [
        "2.0.192.in-addr.arpa.", "100.51.198.in-addr.arpa.", "113.0.203.in-addr.arpa.", "8.b.d.0.1.0.0.2.ip6.arpa.",
    ]

    public func lookup(_ name: String, _ type: DNSRecordType, timeout: Duration) -> DNSAnswer {
        let pending = PendingQuery()
        let token = Unmanaged.passRetained(pending).toOpaque()
        var queryId: Int32 = 0
        let status = ub_resolve_async(self.context, name, type.rawValue, 1 /* IN */, token, { token, error, result in
            let pending = Unmanaged<PendingQuery>.fromOpaque(token!).takeRetainedValue()
            pending.finish(error: error, result: result)
        }, &queryId)
        guard status == 0 else {
            Unmanaged<PendingQuery>.fromOpaque(token).release()
            // A name DNS cannot carry (an empty or over-long label) cannot exist.
            if status == UB_SYNTAX.rawValue { return .nameError }
            return .failure("\(name)/\(type.name): \(String(cString: ub_strerror(status)))")
        }
        let deadline = ContinuousClock.now + timeout
        let descriptor = ub_fd(self.context)
        while !pending.isFinished {
            let remaining = deadline - ContinuousClock.now
            if remaining <= .zero {
                if ub_cancel(self.context, queryId) == 0 {
                    Unmanaged<PendingQuery>.fromOpaque(token).release()
                    return .failure("\(name)/\(type.name): no answer within \(timeout)")
                }
                // Already answered: its callback runs in whichever thread is processing.
                pending.waitUntilFinished()
                break
            }
            var descriptorSet = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            let milliseconds = Int32(min(remaining.milliseconds, 50))
            _ = poll(&descriptorSet, 1, max(milliseconds, 1))
            _ = ub_process(self.context)
        }
        return pending.answer(name: name, type: type)
    }
}

/// HOST[:PORT] of `--dns-server`: an IPv4 or IPv6 address (a name would need DNS to find it).
public struct DNSServerAddress: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int

    /// `192.0.2.53`, `192.0.2.53:5353`, `::1`, `[::1]:5353`.
    public init?(_ text: String) {
        var host = text
        var port = 53
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return nil }
            host = String(text[text.index(after: text.startIndex)..<close])
            let rest = text[text.index(after: close)...]
            if !rest.isEmpty {
                guard rest.hasPrefix(":"), let number = Int(rest.dropFirst()) else { return nil }
                port = number
            }
        } else if text.filter({ $0 == ":" }).count == 1, let colon = text.firstIndex(of: ":") {
            host = String(text[..<colon])
            guard let number = Int(text[text.index(after: colon)...]) else { return nil }
            port = number
        }
        guard (1...65535).contains(port), Self.isAddress(host) else { return nil }
        self.host = host
        self.port = port
    }

    public static func isAddress(_ host: String) -> Bool {
        var buffer = [UInt8](repeating: 0, count: 16)
        return inet_pton(AF_INET, host, &buffer) == 1 || inet_pton(AF_INET6, host, &buffer) == 1
    }

    /// libunbound's `address@port`.
    var unboundText: String { "\(self.host)@\(self.port)" }

    public var description: String { self.host.contains(":") ? "[\(self.host)]:\(self.port)" : "\(self.host):\(self.port)" }
}

/// One query's result, handed from libunbound's callback (in whichever thread called
/// `ub_process`) to the thread waiting for it.
private final class PendingQuery: @unchecked Sendable {
    private let condition = NSCondition()
    private var finished = false
    private var error: Int32 = 0
    private var result: UnsafeMutablePointer<ub_result>?

    var isFinished: Bool {
        self.condition.lock()
        defer { self.condition.unlock() }
        return self.finished
    }

    func finish(error: Int32, result: UnsafeMutablePointer<ub_result>?) {
        self.condition.lock()
        self.error = error
        self.result = result
        self.finished = true
        self.condition.broadcast()
        self.condition.unlock()
    }

    func waitUntilFinished() {
        self.condition.lock()
        while !self.finished {
            self.condition.wait()
        }
        self.condition.unlock()
    }

    deinit {
        if let result { ub_resolve_free(result) }
    }

    func answer(name: String, type: DNSRecordType) -> DNSAnswer {
        self.condition.lock()
        defer { self.condition.unlock() }
        if self.error == UB_SYNTAX.rawValue {
            return .nameError
        }
        guard self.error == 0, let result = self.result?.pointee else {
            return .failure("\(name)/\(type.name): \(String(cString: ub_strerror(self.error)))")
        }
        if result.nxdomain != 0 {
            return .nameError
        }
        guard result.rcode == 0 else {
            return .failure("\(name)/\(type.name): DNS rcode \(result.rcode)")
        }
        guard result.havedata != 0, let data = result.data, let lengths = result.len else {
            return .noData
        }
        var records: [DNSRecordData] = []
        var index = 0
        while let item = data[index] {
            let bytes = UnsafeRawBufferPointer(start: item, count: Int(lengths[index]))
            if let record = Self.decode(bytes, type: type) {
                records.append(record)
            }
            index += 1
        }
        return records.isEmpty ? .noData : .records(records)
    }

    /// libunbound hands rdata without owner and rdlength, names uncompressed.
    private static func decode(_ rdata: UnsafeRawBufferPointer, type: DNSRecordType) -> DNSRecordData? {
        switch type {
        case .a:
            return rdata.count == 4 ? .address(Array(rdata)) : nil
        case .aaaa:
            return rdata.count == 16 ? .address(Array(rdata)) : nil
        case .txt:
            // RFC 1035 §3.3.14: one or more <length byte><bytes>.
            var text: [UInt8] = []
            var offset = 0
            while offset < rdata.count {
                let length = Int(rdata[offset])
                guard offset + 1 + length <= rdata.count else { return nil }
                text += rdata[(offset + 1)..<(offset + 1 + length)]
                offset += 1 + length
            }
            return .text(String(decoding: text, as: UTF8.self))
        case .ptr:
            return Self.name(rdata, from: 0).map { .name($0) }
        case .mx:
            return rdata.count > 2 ? Self.name(rdata, from: 2).map { .name($0) } : nil
        }
    }

    /// libresolv's `ns_name_ntop` for an uncompressed wire name.
    private static func name(_ rdata: UnsafeRawBufferPointer, from offset: Int) -> String? {
        guard let base = rdata.baseAddress else { return nil }
        var buffer = [CChar](repeating: 0, count: 1100)
        let length = ns_name_ntop(base.assumingMemoryBound(to: UInt8.self) + offset, &buffer, buffer.count)
        guard length > 0 else { return nil }
        let text = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return text.hasSuffix(".") && text != "." ? String(text.dropLast()) : text
    }
}

extension Duration {
    var milliseconds: Int64 {
        let (seconds, attoseconds) = self.components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}

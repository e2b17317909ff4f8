import FileIO
import Foundation
internal import CCurl

/// libcurl's process-wide setup. `cis` calls `initialize()` once at start, before threads;
/// `CurlEasyHandle.init` calls it too (idempotent), so tests need nothing special.
public enum CurlLibrary {
    private static let initialized: Bool = {
        curl_global_init(Int(CURL_GLOBAL_DEFAULT)) == CURLE_OK
    }()

    @discardableResult
    public static func initialize() -> Bool {
        Self.initialized
    }

    public static var version: String {
        String(cString: curl_version())
    }
}

/// Set by another thread to stop a transfer in progress (checked from curl's progress callback).
final class TransferCancellation: @unchecked Sendable {
    // @unchecked: `cancelled` is only touched under `lock`.
    private let lock = NSLock()
    private var cancelled = false

    func cancel() {
        self.lock.withLock { self.cancelled = true }
    }

    var isCancelled: Bool {
        self.lock.withLock { self.cancelled }
    }
}

/// One libcurl easy handle, reused for request after request so that its connection
/// cache keeps connections alive. The only file that imports CCurl.
///
/// Not `Sendable`: a handle belongs to one transfer job at a time (`CurlHandleFreeList`).
final class CurlEasyHandle {
    private let handle: UnsafeMutableRawPointer
    /// CURLOPT_ERRORBUFFER: libcurl writes the detailed message of a failed transfer here.
    private let errorBuffer: UnsafeMutablePointer<CChar>

    init() {
        CurlLibrary.initialize()
        guard let handle = curl_easy_init() else {
            fatalError("curl_easy_init failed: out of memory")
        }
        self.handle = handle
        self.errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        self.errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
    }

    deinit {
        curl_easy_cleanup(self.handle)
        self.errorBuffer.deallocate()
    }

    /// Runs one request to completion on the calling thread.
    func perform(
        _ request: HTTPRequest, connectTimeout: Duration, totalTimeout: Duration, cancellation: TransferCancellation
    ) -> Result<HTTPResponse, HTTPTransportError> {
        // Keeps the connection cache; clears every option of the previous request.
        curl_easy_reset(self.handle)
        let transfer = Transfer(body: request.body, cancellation: cancellation)
        var headerList: UnsafeMutablePointer<curl_slist>? = nil
        defer { curl_slist_free_all(headerList) }

        do {
            try self.configure(request, connectTimeout: connectTimeout, totalTimeout: totalTimeout)
            for field in request.headers {
                headerList = curl_slist_append(headerList, "\(field.name): \(field.value)")
            }
            // No 100-continue round trip; no Content-Type curl would invent for POST bodies.
            headerList = curl_slist_append(headerList, "Expect:")
            if !request.headers.contains(name: "Content-Type") {
                headerList = curl_slist_append(headerList, "Content-Type:")
            }
            try self.check(ccurl_easy_setopt_pointer(self.handle, CURLOPT_HTTPHEADER, UnsafeMutableRawPointer(headerList)))
        } catch {
            return .failure(error)
        }

        let context = Unmanaged.passUnretained(transfer).toOpaque()
        let code: CURLcode = withExtendedLifetime(transfer) {
            _ = ccurl_easy_setopt_pointer(self.handle, CURLOPT_WRITEDATA, context)
            _ = ccurl_easy_setopt_write_function(self.handle, CURLOPT_WRITEFUNCTION, Self.writeBody)
            _ = ccurl_easy_setopt_pointer(self.handle, CURLOPT_HEADERDATA, context)
            _ = ccurl_easy_setopt_write_function(self.handle, CURLOPT_HEADERFUNCTION, Self.writeHeader)
            _ = ccurl_easy_setopt_pointer(self.handle, CURLOPT_READDATA, context)
            _ = ccurl_easy_setopt_read_function(self.handle, Self.readBody)
            _ = ccurl_easy_setopt_pointer(self.handle, CURLOPT_XFERINFODATA, context)
            _ = ccurl_easy_setopt_xferinfo_function(self.handle, Self.progress)
            _ = ccurl_easy_setopt_long(self.handle, CURLOPT_NOPROGRESS, 0)
            return curl_easy_perform(self.handle)
        }

        if code != CURLE_OK {
            return .failure(self.transportError(code, transfer: transfer))
        }
        var status = 0
        _ = ccurl_easy_getinfo_long(self.handle, CURLINFO_RESPONSE_CODE, &status)
        return .success(HTTPResponse(status: status, headers: transfer.responseHeaders, body: transfer.responseBody))
    }

    private func configure(_ request: HTTPRequest, connectTimeout: Duration, totalTimeout: Duration) throws(HTTPTransportError) {
        self.errorBuffer[0] = 0
        try self.check(ccurl_easy_setopt_pointer(self.handle, CURLOPT_ERRORBUFFER, self.errorBuffer))
        try self.check(ccurl_easy_setopt_string(self.handle, CURLOPT_URL, request.url))
        try self.check(ccurl_easy_setopt_string(self.handle, CURLOPT_PROTOCOLS_STR, "http,https"))
        try self.check(ccurl_easy_setopt_string(self.handle, CURLOPT_REDIR_PROTOCOLS_STR, "http,https"))
        try self.check(ccurl_easy_setopt_long(self.handle, CURLOPT_NOSIGNAL, 1))
        try self.check(ccurl_easy_setopt_long(self.handle, CURLOPT_TCP_KEEPALIVE, 1))
        try self.check(ccurl_easy_setopt_long(self.handle, CURLOPT_CONNECTTIMEOUT_MS, Self.milliseconds(connectTimeout)))
        try self.check(ccurl_easy_setopt_long(self.handle, CURLOPT_TIMEOUT_MS, Self.milliseconds(request.timeout ?? totalTimeout)))

        let size = curl_off_t(request.body.count)
        switch request.method {
        case "GET":
            try self.check(ccurl_easy_setopt_long(self.handle, CURLOPT_HTTPGET, 1))
        case "HEAD":
            try self.check(ccurl_easy_setopt_long(self.handle, CURLOPT_NOBODY, 1))
        case "PUT":
            try self.check(ccurl_easy_setopt_long(self.handle, CURLOPT_UPLOAD, 1))
            try self.check(ccurl_easy_setopt_off_t(self.handle, CURLOPT_INFILESIZE_LARGE, size))
        case "POST":
            try self.check(ccurl_easy_setopt_long(self.handle, CURLOPT_POST, 1))
            try self.check(ccurl_easy_setopt_off_t(self.handle, CURLOPT_POSTFIELDSIZE_LARGE, size))
        default:
            try self.check(ccurl_easy_setopt_string(self.handle, CURLOPT_CUSTOMREQUEST, request.method))
            if size > 0 {
                try self.check(ccurl_easy_setopt_long(self.handle, CURLOPT_UPLOAD, 1))
                try self.check(ccurl_easy_setopt_off_t(self.handle, CURLOPT_INFILESIZE_LARGE, size))
            }
        }
    }

    /// The one place libcurl return codes from setup become Swift errors.
    private func check(_ code: CURLcode) throws(HTTPTransportError) {
        guard code == CURLE_OK else {
            throw HTTPTransportError(.invalidRequest, "curl option rejected: " + String(cString: curl_easy_strerror(code)))
        }
    }

    private func transportError(_ code: CURLcode, transfer: Transfer) -> HTTPTransportError {
        let detail = String(cString: self.errorBuffer)
        let message = detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail
        if let bodyError = transfer.bodyError {
            return HTTPTransportError(.invalidRequest, "\(bodyError)")
        }
        switch code {
        case CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY:
            return HTTPTransportError(.couldNotConnect, message)
        case CURLE_OPERATION_TIMEDOUT:
            return HTTPTransportError(.timedOut, message)
        case CURLE_SEND_ERROR, CURLE_RECV_ERROR, CURLE_GOT_NOTHING, CURLE_PARTIAL_FILE, CURLE_SSL_CONNECT_ERROR,
            CURLE_HTTP2, CURLE_HTTP2_STREAM:
            return HTTPTransportError(.connectionLost, message)
        case CURLE_ABORTED_BY_CALLBACK where transfer.cancellation.isCancelled:
            return HTTPTransportError(.cancelled, "request cancelled")
        case CURLE_URL_MALFORMAT, CURLE_UNSUPPORTED_PROTOCOL:
            return HTTPTransportError(.invalidRequest, message)
        default:
            return HTTPTransportError(.other, "curl error \(code.rawValue): \(message)")
        }
    }

    private static func milliseconds(_ duration: Duration) -> Int {
        let (seconds, attoseconds) = duration.components
        return max(1, Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000))
    }

    /// The per-transfer state the C callbacks reach through their user-data pointer.
    private final class Transfer {
        let bodyReader: SegmentedBodyReader
        let cancellation: TransferCancellation
        var bodyError: (any Error)?
        var responseHeaders = HTTPHeaders()
        var responseBody: [UInt8] = []

        init(body: SegmentedBody, cancellation: TransferCancellation) {
            self.bodyReader = SegmentedBodyReader(body)
            self.cancellation = cancellation
        }
    }

    private static let writeBody: curl_write_callback = { data, size, count, context in
        let transfer = Unmanaged<Transfer>.fromOpaque(context!).takeUnretainedValue()
        let length = size * count
        if let data, length > 0 {
            data.withMemoryRebound(to: UInt8.self, capacity: length) {
                transfer.responseBody.append(contentsOf: UnsafeBufferPointer(start: $0, count: length))
            }
        }
        return length
    }

    private static let writeHeader: curl_write_callback = { data, size, count, context in
        let transfer = Unmanaged<Transfer>.fromOpaque(context!).takeUnretainedValue()
        let length = size * count
        guard let data, length > 0 else { return length }
        let line = data.withMemoryRebound(to: UInt8.self, capacity: length) {
            String(decoding: UnsafeBufferPointer(start: $0, count: length), as: UTF8.self)
        }.trimmingCharacters(in: .whitespacesAndNewlines)
        if line.hasPrefix("HTTP/") {
            // A new status line (after a 1xx): only the final response's headers count.
            transfer.responseHeaders = HTTPHeaders()
        } else if let colon = line.firstIndex(of: ":") {
            transfer.responseHeaders.add(
                name: String(line[..<colon]),
                value: line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
        return length
    }

    private static let readBody: curl_read_callback = { buffer, size, count, context in
        let transfer = Unmanaged<Transfer>.fromOpaque(context!).takeUnretainedValue()
        guard let buffer else { return 0 }
        do {
            return try transfer.bodyReader.read(into: UnsafeMutableRawBufferPointer(start: buffer, count: size * count))
        } catch {
            transfer.bodyError = error
            return Int(CURL_READFUNC_ABORT)
        }
    }

    private static let progress: curl_xferinfo_callback = { context, _, _, _, _ in
        let transfer = Unmanaged<Transfer>.fromOpaque(context!).takeUnretainedValue()
        return transfer.cancellation.isCancelled ? 1 : 0
    }
}

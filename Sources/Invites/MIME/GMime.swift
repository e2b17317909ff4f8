internal import CGMime

/// The only file that talks to GMime: parses a message and copies out what the invite parser needs.
///
/// GMime objects never leave this file; each one is released before the function that made it returns.
enum GMime {
    private static let initialized: Void = {
        g_mime_init()
    }()

    /// Initializes GMime once per process; safe to call from any thread, any number of times.
    static func initialize() {
        Self.initialized
    }

    /// Parses an RFC 5322 message; `nil` when GMime cannot make a message of the bytes.
    /// Throws when the tree has more parts or levels than `budget` allows.
    static func parseMessage(_ bytes: [UInt8], budget: ParseBudget) throws(LimitExceeded) -> MIMEMessage? {
        Self.initialize()
        let stream = bytes.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { characters in
                g_mime_stream_mem_new_with_buffer(characters.baseAddress, characters.count)
            }
        }
        guard let stream else { return nil }
        defer { cgmime_unref(stream) }
        guard let parser = g_mime_parser_new_with_stream(stream) else { return nil }
        defer { cgmime_unref(parser) }
        g_mime_parser_set_format(parser, GMIME_FORMAT_MESSAGE)
        guard let message = g_mime_parser_construct_message(parser, nil) else { return nil }
        defer { cgmime_unref(message) }
        try budget.checkDeadline("reading the MIME structure")
        return try Self.describe(message, budget: budget)
    }

    /// Parses an RFC 5322 address list; groups are flattened to their members.
    static func parseAddressList(_ text: String) -> [MailAddress] {
        Self.initialize()
        guard let list = internet_address_list_parse(nil, text) else { return [] }
        defer { cgmime_unref(list) }
        return Self.addresses(in: list)
    }

    private static func describe(
        _ message: UnsafeMutablePointer<GMimeMessage>, budget: ParseBudget
    ) throws(LimitExceeded) -> MIMEMessage {
        var collector = PartCollector(budget: budget)
        var mediaType = "text/plain"
        var reportType: String?
        if let body = g_mime_message_get_mime_part(message) {
            if let contentType = g_mime_object_get_content_type(body) {
                mediaType = Self.mediaType(of: contentType)
                reportType = Self.string(g_mime_content_type_get_parameter(contentType, "report-type"))?.lowercased()
            }
            collector.walk(body, depth: 0)
        }
        if let exceeded = collector.exceeded {
            throw exceeded
        }
        let returnPath = Self.string(g_mime_object_get_header(cgmime_message_object(message), "Return-Path"))
            .flatMap { Self.parseAddressList($0).first?.address }
        return MIMEMessage(
            replyTo: g_mime_message_get_reply_to(message).map(Self.addresses(in:)) ?? [],
            from: g_mime_message_get_from(message).map(Self.addresses(in:)) ?? [],
            returnPath: returnPath,
            mediaType: mediaType,
            reportType: reportType,
            calendarParts: collector.parts,
            hasTNEF: collector.hasTNEF)
    }

    private static func addresses(in list: UnsafeMutablePointer<InternetAddressList>) -> [MailAddress] {
        var result: [MailAddress] = []
        let count = internet_address_list_length(list)
        guard count > 0 else { return result }
        for index in 0..<count {
            guard let address = internet_address_list_get_address(list, index) else { continue }
            if cgmime_address_is_mailbox(address) != 0 {
                guard let addrSpec = Self.string(internet_address_mailbox_get_addr(cgmime_address_mailbox(address))),
                    !addrSpec.isEmpty
                else { continue }
                let name = Self.string(internet_address_get_name(address)).flatMap { $0.isEmpty ? nil : $0 }
                result.append(MailAddress(name: name, address: addrSpec))
            } else if cgmime_address_is_group(address) != 0,
                let members = internet_address_group_get_members(cgmime_address_group(address))
            {
                result += Self.addresses(in: members)
            }
        }
        return result
    }

    fileprivate static func mediaType(of contentType: UnsafeMutablePointer<GMimeContentType>) -> String {
        let type = Self.string(g_mime_content_type_get_media_type(contentType)) ?? "text"
        let subtype = Self.string(g_mime_content_type_get_media_subtype(contentType)) ?? "plain"
        return (type + "/" + subtype).lowercased()
    }

    fileprivate static func string(_ pointer: UnsafePointer<CChar>?) -> String? {
        pointer.map { String(cString: $0) }
    }
}

/// Walks a MIME tree and keeps the calendar parts and whether TNEF was seen; stops at the
/// first limit the tree is over.
private struct PartCollector {
    let budget: ParseBudget
    var parts: [CalendarPart] = []
    var hasTNEF = false
    var visited = 0
    var exceeded: LimitExceeded?

    init(budget: ParseBudget) {
        self.budget = budget
    }

    mutating func walk(_ object: UnsafeMutablePointer<GMimeObject>, depth: Int) {
        guard self.exceeded == nil else { return }
        let limits = self.budget.limits
        self.visited += 1
        do throws(LimitExceeded) {
            if depth > limits.maximumMIMEDepth {
                throw LimitExceeded(reason: FailureReason.tooDeepMIME(limit: limits.maximumMIMEDepth))
            }
            if self.visited > limits.maximumMIMEParts {
                throw LimitExceeded(reason: FailureReason.tooManyMIMEParts(limit: limits.maximumMIMEParts))
            }
            try self.budget.checkDeadline("reading MIME part \(self.visited)")
        } catch {
            self.exceeded = error
            return
        }
        if cgmime_is_multipart(object) != 0 {
            let multipart = cgmime_multipart(object)
            let count = g_mime_multipart_get_count(multipart)
            guard count > 0 else { return }
            for index in 0..<count {
                if let child = g_mime_multipart_get_part(multipart, index) {
                    self.walk(child, depth: depth + 1)
                }
            }
        } else if cgmime_is_message_part(object) != 0 {
            if let message = g_mime_message_part_get_message(cgmime_message_part(object)),
                let body = g_mime_message_get_mime_part(message)
            {
                self.walk(body, depth: depth + 1)
            }
        } else if cgmime_is_part(object) != 0 {
            self.visitLeaf(cgmime_part(object), object: object)
        }
    }

    private mutating func visitLeaf(_ part: UnsafeMutablePointer<GMimePart>?, object: UnsafeMutablePointer<GMimeObject>) {
        guard let part, let contentType = g_mime_object_get_content_type(object) else { return }
        let mediaType = GMime.mediaType(of: contentType)
        let filename = GMime.string(g_mime_part_get_filename(part))
        let lowerFilename = filename?.lowercased() ?? ""
        if mediaType == "application/ms-tnef" || mediaType == "application/vnd.ms-tnef" || lowerFilename == "winmail.dat" {
            self.hasTNEF = true
            return
        }
        let calendarTypes: Set<String> = ["text/calendar", "application/ics", "text/x-vcalendar", "application/calendar"]
        guard calendarTypes.contains(mediaType) || lowerFilename.hasSuffix(".ics") || lowerFilename.hasSuffix(".vcs") else {
            return
        }
        guard let bytes = Self.decodedContent(of: part) else { return }
        let charset = GMime.string(g_mime_content_type_get_parameter(contentType, "charset"))
        let disposition = g_mime_object_get_content_disposition(object)
        let isAttachment = disposition.map { g_mime_content_disposition_is_attachment($0) != 0 } ?? false
        self.parts.append(CalendarPart(
            text: TextDecoding.utf8(bytes, charset: charset),
            contentTypeMethod: GMime.string(g_mime_content_type_get_parameter(contentType, "method"))?.lowercased(),
            isInline: !isAttachment,
            mediaType: mediaType,
            filename: filename))
    }

    /// The part's content with its Content-Transfer-Encoding (base64, quoted-printable) undone.
    private static func decodedContent(of part: UnsafeMutablePointer<GMimePart>) -> [UInt8]? {
        guard let wrapper = g_mime_part_get_content(part), let output = g_mime_stream_mem_new() else { return nil }
        defer { cgmime_unref(output) }
        guard g_mime_data_wrapper_write_to_stream(wrapper, output) >= 0,
            let array = g_mime_stream_mem_get_byte_array(cgmime_stream_mem(output))
        else { return nil }
        let length = Int(array.pointee.len)
        guard length > 0, let data = array.pointee.data else { return [] }
        return Array(UnsafeBufferPointer(start: data, count: length))
    }
}

/// Converts a part's bytes from its declared charset to a Swift string.
enum TextDecoding {
    /// Calendar text in `charset`, unfolded first (RFC 5545 §3.1: a fold may split a
    /// multi-octet character) unless the charset is not ASCII-based (UTF-16, UTF-32).
    static func utf8(_ bytes: [UInt8], charset: String?) -> String {
        let name = (charset ?? "").filter { $0 != " " && $0 != "\t" }.lowercased()
        if name.isEmpty || name == "utf-8" || name == "utf8" || name == "us-ascii" || name == "ascii" {
            return Self.utf8OrLatin1(bytes)
        }
        let asciiBased = !(name.hasPrefix("utf-16") || name.hasPrefix("utf-32") || name.hasPrefix("ucs"))
        if asciiBased, let converted = Self.convert(ContentLineFolding.unfolded(bytes), from: name) {
            return converted
        }
        if !asciiBased, let converted = Self.convert(bytes, from: name) {
            return String(decoding: ContentLineFolding.unfolded(Array(converted.utf8)), as: UTF8.self)
        }
        return Self.utf8OrLatin1(bytes)
    }

    /// Undeclared or wrongly declared 8-bit calendar text, unfolded: UTF-8 when it is valid
    /// UTF-8, else ISO-8859-1.
    static func utf8OrLatin1(_ folded: [UInt8]) -> String {
        let bytes = ContentLineFolding.unfolded(folded)
        if let text = String(validating: bytes, as: UTF8.self) {
            return text
        }
        return String(bytes.map { Character(Unicode.Scalar($0)) })
    }

    private static func convert(_ bytes: [UInt8], from charset: String) -> String? {
        var written: gsize = 0
        let converted = bytes.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { characters in
                g_convert(characters.baseAddress, gssize(characters.count), "UTF-8", charset, nil, &written, nil)
            }
        }
        guard let converted else { return nil }
        defer { g_free(converted) }
        let utf8 = UnsafeRawPointer(converted).assumingMemoryBound(to: UInt8.self)
        return String(validating: UnsafeBufferPointer(start: utf8, count: Int(written)), as: UTF8.self)
    }
}

// CompressibleTypes: which media types are worth compressing on the fly, like
// nginx's gzip_types (which lists text/html by default and operators widen):
// text, and the structured text formats served as application/* or image/*.
// Formats that are already compressed (images, video, fonts in woff/woff2,
// archives) only cost CPU to deflate again, and are left alone.

public enum CompressibleTypes {
    /// Types outside text/* and the +json, +xml suffixes (RFC 6839) that compress well.
    private static let listed: [StaticString] = [
        "application/json", "application/javascript", "application/x-javascript", "application/ecmascript",
        "application/xml", "application/wasm", "application/manifest+json", "application/x-ndjson",
        "application/graphql-response+json", "application/x-www-form-urlencoded", "application/vnd.ms-fontobject",
        "application/x-font-ttf", "application/x-sh", "application/rtf", "application/postscript",
        "font/ttf", "font/otf", "font/collection", "image/x-icon", "image/vnd.microsoft.icon", "image/bmp",
    ]

    /// Whether `response`'s Content-Type (its run-time media type when set) is compressible.
    public static func contains(typeOf response: Response) -> Bool {
        if let mediaType = response.mediaType { return mediaType.bytes.withUnsafeBytes { contains($0) } }
        return contains(response.contentType)
    }

    /// Whether a response of Content-Type `contentType` (parameters such as charset ignored) is compressible.
    public static func contains(_ contentType: StaticString) -> Bool {
        let bytes = UnsafeRawBufferPointer(start: contentType.utf8Start, count: contentType.utf8CodeUnitCount)
        return contains(bytes)
    }

    public static func contains(_ contentType: UnsafeRawBufferPointer) -> Bool {
        var end = 0
        while end < contentType.count && contentType[end] != UInt8(ascii: ";") { end += 1 }
        while end > 0 && (contentType[end - 1] == UInt8(ascii: " ") || contentType[end - 1] == UInt8(ascii: "\t")) { end -= 1 }
        let type = UnsafeRawBufferPointer(rebasing: contentType[..<end])
        if hasPrefix(type, "text/") || hasSuffix(type, "+json") || hasSuffix(type, "+xml") { return true }
        return listed.contains { AcceptEncoding.equalIgnoringCase(type, $0) }
    }

    private static func hasPrefix(_ type: UnsafeRawBufferPointer, _ prefix: StaticString) -> Bool {
        let count = prefix.utf8CodeUnitCount
        return type.count > count && AcceptEncoding.equalIgnoringCase(UnsafeRawBufferPointer(rebasing: type[..<count]), prefix)
    }

    private static func hasSuffix(_ type: UnsafeRawBufferPointer, _ suffix: StaticString) -> Bool {
        let count = suffix.utf8CodeUnitCount
        return type.count > count
            && AcceptEncoding.equalIgnoringCase(UnsafeRawBufferPointer(rebasing: type[(type.count - count)...]), suffix)
    }
}

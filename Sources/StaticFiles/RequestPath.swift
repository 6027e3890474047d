// RequestPath: the path of a request turned into the name of a file under the
// root, or refused. Percent-decoding happens exactly once (so `%252e` stays the
// three bytes `%2e`, a name, never a dot), then dot segments are removed (RFC
// 3986 §5.2.4) and empty segments (`//`) collapsed. Refused with 400, as nginx
// refuses a target it cannot map to a file name (ngx_http_parse_complex_uri):
// a malformed escape; NUL; `..` above the root; and, stricter than nginx, an
// encoded `/` (it would let one segment name two, so the path a proxy or a
// log sees is not the file served), `\` raw or encoded (a separator on other
// systems: refused so that no layer in front normalises it differently), and
// bytes that are not well-formed UTF-8 (overlong forms such as `%c0%ae` for `.`
// are how decoders have been tricked into making dots and slashes).
import HTTP1

/// A request path, decoded and normalised.
public struct RequestPath: Equatable, Sendable {
    /// The path relative to the root ("css/site.css"; "" for the root itself): its segments, none
    /// empty, `.` or `..`, joined by "/".
    public let relative: String
    /// Whether the path ended in `/` (a directory was asked for).
    public let trailingSlash: Bool

    /// Why a path was refused; every reason answers 400.
    public enum Refusal: Error, Equatable, Sendable {
        case malformedEscape, nul, encodedSlash, backslash, invalidUTF8, aboveRoot
    }

    /// The segments under the root.
    public var segments: [String] { relative.split(separator: "/").map(String.init) }

    /// Whether a segment names a dot file (`.git`, `.env`): hidden unless served on purpose.
    public var hasDotSegment: Bool {
        var atSegmentStart = true
        for byte in relative.utf8 {
            if atSegmentStart && byte == UInt8(ascii: ".") { return true }
            atSegmentStart = byte == UInt8(ascii: "/")
        }
        return false
    }

    /// Normalises `bytes`, a request path without its query, which starts with "/".
    public init(decoding bytes: UnsafeRawBufferPointer) throws(Refusal) {
        if let plain = Self.alreadyNormal(bytes) {
            (relative, trailingSlash) = plain
            return
        }
        let decoded = try Self.percentDecode(bytes)
        guard Self.isWellFormedUTF8(decoded) else { throw .invalidUTF8 }
        let (segments, slash) = try Self.removeDotSegments(decoded)
        relative = segments.joined(separator: "/")
        trailingSlash = slash
    }

    /// The common case, without the arrays the general one builds: printable ASCII with no
    /// escape, no `\`, no empty segment and no segment starting with a dot (so no `.` or `..`)
    /// is already normal. nil sends anything else the general way.
    static func alreadyNormal(_ bytes: UnsafeRawBufferPointer) -> (String, Bool)? {
        guard bytes.count >= 1, bytes[0] == UInt8(ascii: "/") else { return nil }
        var previous = UInt8(ascii: "/")
        for byte in bytes.dropFirst() {
            guard byte > 0x20 && byte < 0x7F && byte != UInt8(ascii: "%") && byte != UInt8(ascii: "\\") else { return nil }
            if previous == UInt8(ascii: "/") && (byte == UInt8(ascii: "/") || byte == UInt8(ascii: ".")) { return nil }
            previous = byte
        }
        let slash = bytes.count > 1 && previous == UInt8(ascii: "/")
        let end = slash ? bytes.count - 1 : bytes.count
        return (String(decoding: UnsafeRawBufferPointer(rebasing: bytes[1..<end]), as: UTF8.self), slash || bytes.count == 1)
    }

    /// Each `%XX` becomes its byte, once. A `/` or `\` that arrives encoded is refused here,
    /// before it could be taken for a separator; so is a NUL (no file name holds one).
    static func percentDecode(_ bytes: UnsafeRawBufferPointer) throws(Refusal) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            var byte = bytes[index]
            if byte == UInt8(ascii: "%") {
                guard index + 2 < bytes.count, let high = bytes[index + 1].hexDigitValue, let low = bytes[index + 2].hexDigitValue else {
                    throw .malformedEscape
                }
                byte = high << 4 | low
                if byte == UInt8(ascii: "/") { throw .encodedSlash }
                index += 2
            }
            if byte == 0 { throw .nul }
            if byte == UInt8(ascii: "\\") { throw .backslash }
            output.append(byte)
            index += 1
        }
        return output
    }

    /// RFC 3986 §5.2.4 over segments: `.` goes, `..` removes the segment before it, and
    /// empty segments (`//`) are collapsed. A `..` with nothing left to remove is refused,
    /// as nginx refuses it, rather than silently clamped at the root.
    static func removeDotSegments(_ path: [UInt8]) throws(Refusal) -> ([String], Bool) {
        var segments: [String] = []
        let parts = path.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: true)
        for part in parts {
            if part.elementsEqual([0x2E]) { continue }
            if part.elementsEqual([0x2E, 0x2E]) {
                guard segments.popLast() != nil else { throw .aboveRoot }
                continue
            }
            segments.append(String(decoding: part, as: UTF8.self))
        }
        // "/a/." and "/a/.." name a directory, as "/a/" does (RFC 3986 §5.2.4 leaves the slash).
        let last = parts.last
        let endsAsDirectory = path.last == UInt8(ascii: "/")
            || last.map { $0.elementsEqual([0x2E]) || $0.elementsEqual([0x2E, 0x2E]) } ?? true
        return (segments, endsAsDirectory)
    }

    /// Well-formed UTF-8 as RFC 3629 §4 defines it: no overlong forms (C0, C1, E0 80-9F,
    /// F0 80-8F), no surrogates (ED A0-BF), nothing above U+10FFFF.
    static func isWellFormedUTF8(_ bytes: [UInt8]) -> Bool {
        var index = 0
        while index < bytes.count {
            let lead = bytes[index]
            let length: Int
            var low: UInt8 = 0x80
            var high: UInt8 = 0xBF
            switch lead {
            case 0x00...0x7F: index += 1; continue
            case 0xC2...0xDF: length = 2
            case 0xE0: length = 3; low = 0xA0
            case 0xE1...0xEC, 0xEE...0xEF: length = 3
            case 0xED: length = 3; high = 0x9F
            case 0xF0: length = 4; low = 0x90
            case 0xF1...0xF3: length = 4
            case 0xF4: length = 4; high = 0x8F
            default: return false
            }
            guard index + length <= bytes.count else { return false }
            guard (low...high).contains(bytes[index + 1]) else { return false }
            for offset in 2..<max(2, length) where !(0x80...0xBF).contains(bytes[index + offset]) { return false }
            index += length
        }
        return true
    }

}

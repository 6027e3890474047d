// ContentCoding: the content codings a response can be sent in (RFC 9110
// §8.4.1), and a set of them: what one response can offer a client.

/// A content coding this server can send a representation in.
public enum ContentCoding: UInt8, Sendable, CaseIterable {
    case identity
    case gzip
    case br

    /// The value of Content-Encoding for it (none for identity).
    public var headerValue: StaticString {
        switch self {
        case .identity: return "identity"
        case .gzip: return "gzip"
        case .br: return "br"
        }
    }

    /// The file name suffix of a precompressed sibling (nginx's gzip_static, brotli_static).
    public var fileSuffix: StaticString {
        switch self {
        case .identity: return ""
        case .gzip: return ".gz"
        case .br: return ".br"
        }
    }
}

/// The codings one response can be sent in. Identity is always among them in practice.
public struct ContentCodings: OptionSet, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public init(_ coding: ContentCoding) { rawValue = 1 << coding.rawValue }

    public static let identity = ContentCodings(.identity)
    public static let gzip = ContentCodings(.gzip)
    public static let br = ContentCodings(.br)

    public func contains(_ coding: ContentCoding) -> Bool { contains(ContentCodings(coding)) }
}

// RoutePattern: a route's path pattern, "/todos/{id}": literal segments that
// must equal the path's, `{name}` parameters that take one non-empty segment,
// and a last `{name...}` that takes the rest of the path (slashes included).
// Matching walks the path's bytes in place; it allocates only for the values
// of the parameters it captures, percent-decoded (RFC 3986 §2.1).

struct RoutePattern: Sendable, CustomStringConvertible {
    enum Segment: Sendable, Equatable {
        case literal([UInt8])
        case parameter(String)
        case rest(String)
    }

    let segments: [Segment]
    let description: String
    /// Whether matching captures anything (an inline route without parameters allocates nothing).
    let hasParameters: Bool

    private static let slash = UInt8(ascii: "/")

    /// Traps on a pattern that does not start with "/" or has `{name...}` before its end: those
    /// are errors in the program's route table, found when it first runs.
    init(_ text: String) {
        precondition(text.hasPrefix("/"), "a route pattern starts with \"/\": \(text)")
        let pieces = text.dropFirst().split(separator: "/", omittingEmptySubsequences: false)
        segments = pieces.enumerated().map { index, piece in
            guard piece.hasPrefix("{") && piece.hasSuffix("}") && piece.count > 2 else { return .literal(Array(piece.utf8)) }
            let name = piece.dropFirst().dropLast()
            guard name.hasSuffix("...") else { return .parameter(String(name)) }
            precondition(index == pieces.count - 1, "{\(name)} must end the pattern: \(text)")
            return .rest(String(name.dropLast(3)))
        }
        description = text
        hasParameters = segments.contains { if case .literal = $0 { false } else { true } }
    }

    /// Whether `path` (from its leading "/", without the query) matches.
    func matches(_ path: UnsafeRawBufferPointer) -> Bool {
        var ignored = RouteParameters()
        return match(path, capture: false, into: &ignored)
    }

    /// Whether `path` matches; if so and `capture` is set, the parameters' values are appended.
    func match(_ path: UnsafeRawBufferPointer, capture: Bool, into parameters: inout RouteParameters) -> Bool {
        guard path.first == Self.slash else { return false }
        var position = 1
        for segment in segments {
            if case .rest(let name) = segment {
                if capture { parameters.append(name, Self.decoded(UnsafeRawBufferPointer(rebasing: path[position...]))) }
                return true
            }
            guard position <= path.count else { return false }
            let end = path[position...].firstIndex(of: Self.slash) ?? path.count
            let piece = UnsafeRawBufferPointer(rebasing: path[position..<end])
            switch segment {
            case .literal(let bytes):
                guard piece.elementsEqual(bytes) else { return false }
            case .parameter(let name):
                guard !piece.isEmpty else { return false }
                if capture { parameters.append(name, Self.decoded(piece)) }
            case .rest:
                break
            }
            position = end + 1
        }
        // The last segment ended at the path's end, not at a "/" with more after it.
        return position == path.count + 1
    }

    /// `bytes` with each "%XX" decoded (RFC 3986 §2.1); a "%" not followed by two hex digits stays.
    static func decoded(_ bytes: UnsafeRawBufferPointer) -> String {
        guard bytes.contains(UInt8(ascii: "%")) else { return String(decoding: bytes, as: UTF8.self) }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "%"), index + 2 < bytes.count,
               let high = bytes[index + 1].hexDigitValue, let low = bytes[index + 2].hexDigitValue {
                out.append(high << 4 | low)
                index += 3
            } else {
                out.append(bytes[index])
                index += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

}

/// The values a route's pattern captured, by parameter name.
public struct RouteParameters: Sendable {
    private var pairs: [(name: String, value: String)] = []

    public init() {}

    mutating func append(_ name: String, _ value: String) {
        pairs.append((name, value))
    }

    /// The value of `{name}` (percent-decoded), nil when the pattern has no such parameter.
    public subscript(_ name: String) -> String? {
        pairs.first { $0.name == name }?.value
    }

    /// Every captured parameter, in the pattern's order.
    public var all: [(name: String, value: String)] { pairs }
}

// RoutePattern: a route's path pattern, "/todos/{id}": literal segments that
// must equal the path's, `{name}` parameters that take one non-empty segment,
// and a last `{name...}` that takes the rest of the path (slashes included).
// Matching walks the path's bytes in place; it allocates only for the values
// of the parameters it captures, percent-decoded (RFC 3986 §2.1).
import Glibc

struct RoutePattern: Sendable, CustomStringConvertible {
    /// Segments are plain values (ranges and indices into the pattern's two arrays), so
    /// walking them on every request retains and releases nothing.
    enum Segment: Sendable, Equatable {
        /// Bytes the path's segment must equal: this range of `literals`.
        case literal(Range<Int>)
        /// One non-empty segment, captured under `names[index]`.
        case parameter(Int)
        /// The rest of the path, captured under `names[index]`.
        case rest(Int)
    }

    let segments: [Segment]
    /// Every literal segment's bytes, one after another.
    private let literals: [UInt8]
    /// Every parameter's name, in the pattern's order.
    private let names: [String]
    let description: String
    /// Whether matching captures anything (an inline route without parameters allocates nothing).
    let hasParameters: Bool

    private static let slash = UInt8(ascii: "/")

    /// Traps on a pattern that does not start with "/" or has `{name...}` before its end: those
    /// are errors in the program's route table, found when it first runs.
    init(_ text: String) {
        precondition(text.hasPrefix("/"), "a route pattern starts with \"/\": \(text)")
        let pieces = text.dropFirst().split(separator: "/", omittingEmptySubsequences: false)
        var segments: [Segment] = []
        var literals: [UInt8] = []
        var names: [String] = []
        for (index, piece) in pieces.enumerated() {
            guard piece.hasPrefix("{") && piece.hasSuffix("}") && piece.count > 2 else {
                segments.append(.literal(literals.count..<literals.count + piece.utf8.count))
                literals += piece.utf8
                continue
            }
            let name = piece.dropFirst().dropLast()
            if name.hasSuffix("...") {
                precondition(index == pieces.count - 1, "{\(name)} must end the pattern: \(text)")
                segments.append(.rest(names.count))
                names.append(String(name.dropLast(3)))
            } else {
                segments.append(.parameter(names.count))
                names.append(String(name))
            }
        }
        self.segments = segments
        self.literals = literals
        self.names = names
        description = text
        hasParameters = !names.isEmpty
    }

    /// Whether `path` (from its leading "/", without the query) matches.
    func matches(_ path: UnsafeRawBufferPointer) -> Bool {
        var ignored = RouteParameters()
        return match(path, capture: false, into: &ignored)
    }

    /// Whether `path` matches; if so and `capture` is set, the parameters' values are appended.
    func match(_ path: UnsafeRawBufferPointer, capture: Bool, into parameters: inout RouteParameters) -> Bool {
        guard path.first == Self.slash else { return false }
        return literals.withUnsafeBytes { literals in
            var position = 1
            for segment in segments {
                if case .rest(let name) = segment {
                    if capture { parameters.append(names[name], Self.decoded(UnsafeRawBufferPointer(rebasing: path[position...]))) }
                    return true
                }
                guard position <= path.count else { return false }
                let end = path[position...].firstIndex(of: Self.slash) ?? path.count
                let piece = UnsafeRawBufferPointer(rebasing: path[position..<end])
                switch segment {
                case .literal(let range):
                    guard Self.equal(piece, UnsafeRawBufferPointer(rebasing: literals[range])) else { return false }
                case .parameter(let name):
                    guard !piece.isEmpty else { return false }
                    if capture { parameters.append(names[name], Self.decoded(piece)) }
                case .rest:
                    break
                }
                position = end + 1
            }
            // The last segment ended at the path's end, not at a "/" with more after it.
            return position == path.count + 1
        }
    }

    private static func equal(_ left: UnsafeRawBufferPointer, _ right: UnsafeRawBufferPointer) -> Bool {
        guard left.count == right.count else { return false }
        guard let leftBase = left.baseAddress, let rightBase = right.baseAddress else { return true }
        return memcmp(leftBase, rightBase, left.count) == 0
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

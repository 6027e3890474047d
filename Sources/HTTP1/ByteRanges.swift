// ByteRanges: reading a Range field (RFC 9110 §14.1.2, §14.2) against a
// representation's length, and deciding what to send: the whole, one part, several
// parts, or 416. Overlapping and excessive ranges are handled as nginx does.

/// One satisfiable range, clamped to the representation: bytes `start..<end`.
public struct ByteRange: Equatable, Sendable {
    public let start: Int
    public let end: Int
    public var length: Int { end - start }

    public init(start: Int, end: Int) {
        self.start = start
        self.end = end
    }
}

/// What a Range field asks to be sent.
public enum RangePlan: Equatable, Sendable {
    /// The whole representation, 200: no Range, another unit, an invalid field, or one nginx declines.
    case whole
    /// 206 with Content-Range.
    case single(ByteRange)
    /// 206 multipart/byteranges, parts in the order asked.
    case multiple([ByteRange])
    /// 416 with `Content-Range: bytes */length`: none of the ranges is satisfiable.
    case unsatisfiable
}

public enum ByteRanges {
    /// The most parts a multipart answer has; more ranges get the whole representation
    /// (nginx's `max_ranges` has the same effect, unlimited by default; a bound keeps a
    /// request of many tiny ranges from costing a part header per byte).
    public static let maximumParts = 64

    /// The plan for the Range field `field` of a representation of `length` bytes.
    ///
    /// As nginx: unsatisfiable ranges among satisfiable ones are dropped; overlapping ranges
    /// are sent as asked, not coalesced, unless the parts add up to more than the whole, when
    /// the whole is sent instead (§14.2 lets a server ignore such a field); an empty
    /// representation is sent whole. Unlike nginx, a malformed field is ignored (200) rather
    /// than answered 416, as RFC 7233 §3.1 (and §14.2's MAY ignore) allow.
    public static func plan(_ field: UnsafeRawBufferPointer, length: Int) -> RangePlan {
        guard length > 0, var specs = RangeSpecs(field) else { return .whole }
        var first: ByteRange?
        var count = 0
        var total = 0
        while let spec = specs.next() {
            guard let spec else { return .whole }  // malformed: the field is ignored
            guard let range = spec.clamped(to: length) else { continue }
            count += 1
            total += range.length  // each part is at most `length`, so this stays below 2 * length
            if count > maximumParts || total > length { return .whole }
            if first == nil { first = range }
        }
        guard let first else { return .unsatisfiable }
        if count == 1 { return .single(first) }
        return .multiple(collect(field, length: length, count: count))
    }

    /// The satisfiable ranges of a field `plan` has checked, in order (a second pass, so a single range allocates nothing).
    private static func collect(_ field: UnsafeRawBufferPointer, length: Int, count: Int) -> [ByteRange] {
        var ranges: [ByteRange] = []
        ranges.reserveCapacity(count)
        var specs = RangeSpecs(field)!
        while case let spec?? = specs.next() {
            if let range = spec.clamped(to: length) { ranges.append(range) }
        }
        return ranges
    }
}

/// One range-spec as sent: `first-last`, `first-` or `-suffix` (§14.1.2).
struct RangeSpec {
    /// nil for a suffix range.
    var first: Int?
    /// The last position asked (inclusive), or for a suffix range the suffix length; nil for `first-`.
    var last: Int?

    /// The bytes this spec selects of a representation of `length` bytes, nil when it selects none (§14.1.2).
    func clamped(to length: Int) -> ByteRange? {
        guard let first else {
            let suffix = last ?? 0
            return suffix > 0 ? ByteRange(start: length - min(suffix, length), end: length) : nil
        }
        guard first < length else { return nil }
        let end = last.map { min($0, length - 1) + 1 } ?? length
        return ByteRange(start: first, end: end)
    }
}

// RangeSpecs: the grammar of a bytes Range field (RFC 9110 §14.1.1, §14.1.2),
// read one range-spec at a time over the field's bytes, without allocating.

struct RangeSpecs {
    private let field: UnsafeRawBufferPointer
    private var index: Int
    /// Whether a spec has been read: range-set is 1#range-spec, so an empty one is malformed.
    private var sawSpec = false

    /// The specs of `field`, nil when its unit is not "bytes" (compared ignoring case, §14.1)
    /// and so the field is ignored.
    init?(_ field: UnsafeRawBufferPointer) {
        let unit: StaticString = "bytes="
        guard field.count >= unit.utf8CodeUnitCount else { return nil }
        for offset in 0..<unit.utf8CodeUnitCount where field[offset] | 0x20 != unit.utf8Start[offset] | 0x20 {
            return nil
        }
        self.field = field
        index = unit.utf8CodeUnitCount
    }

    /// The next spec: nil at the end, `.some(nil)` when the field is malformed here.
    mutating func next() -> RangeSpec?? {
        skipSeparators()
        if index == field.count { return sawSpec ? nil : .some(nil) }
        var spec = RangeSpec()
        if field[index] != UInt8(ascii: "-") {
            guard let first = digits() else { return .some(nil) }
            spec.first = first
        }
        guard take(UInt8(ascii: "-")) else { return .some(nil) }
        if index < field.count, isDigit(field[index]) {
            spec.last = digits()
        } else if spec.first == nil {
            return .some(nil)  // "-" alone
        }
        if let first = spec.first, let last = spec.last, last < first { return .some(nil) }  // §14.1.1: invalid
        skipWhitespace()
        guard index == field.count || field[index] == UInt8(ascii: ",") else { return .some(nil) }
        sawSpec = true
        return .some(spec)
    }

    private mutating func take(_ byte: UInt8) -> Bool {
        guard index < field.count, field[index] == byte else { return false }
        index += 1
        return true
    }

    /// Decimal digits, saturating at Int.max (a position that large is past any file).
    private mutating func digits() -> Int? {
        guard index < field.count, isDigit(field[index]) else { return nil }
        var value = 0
        while index < field.count, isDigit(field[index]) {
            let (times10, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times10.addingReportingOverflow(Int(field[index] - UInt8(ascii: "0")))
            value = overflow1 || overflow2 ? Int.max : sum
            index += 1
        }
        return value
    }

    private func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

    private mutating func skipWhitespace() {
        while index < field.count, field[index] == .space || field[index] == UInt8(ascii: "\t") { index += 1 }
    }

    /// OWS and commas: a list may have empty elements (§5.6.1).
    private mutating func skipSeparators() {
        while index < field.count, field[index] == .space || field[index] == UInt8(ascii: "\t")
                || field[index] == UInt8(ascii: ",") { index += 1 }
    }
}

// EntityTagMatch: comparing a representation's entity tag with the list an
// If-Match, If-None-Match or If-Range field carries (RFC 9110 §8.8.3.2, §13.1.1,
// §13.1.2), over the field's bytes without copying them. Plain loops and memcmp
// rather than generic algorithms over slices, which allocate when not specialised.
import Glibc

enum EntityTagMatch {
    /// How two entity tags are compared (§8.8.3.2): strong needs both tags strong and
    /// their opaque parts equal; weak needs only the opaque parts equal.
    enum Comparison { case strong, weak }

    /// Whether `field` ("*" or a list of entity tags) matches the strong tag `current`
    /// (with its quotes). A malformed list matches nothing from the point it goes wrong.
    static func matches(_ field: UnsafeRawBufferPointer, current: UnsafeRawBufferPointer, _ comparison: Comparison) -> Bool {
        var index = 0
        skipSeparators(field, &index)
        if index < field.count, field[index] == UInt8(ascii: "*") {
            index += 1
            skipSeparators(field, &index)
            return index == field.count  // "*" stands alone (§13.1.1)
        }
        while index < field.count {
            guard let tag = nextTag(field, &index) else { return false }
            if tag.weak && comparison == .strong { continue }
            if equal(field, tag.opaque, current) { return true }
        }
        return false
    }

    /// Whether `value` is exactly one strong entity tag equal to `current` (If-Range, §13.1.5).
    static func isSameStrongTag(_ value: UnsafeRawBufferPointer, current: UnsafeRawBufferPointer) -> Bool {
        value.count == current.count && (value.isEmpty || memcmp(value.baseAddress!, current.baseAddress!, value.count) == 0)
    }

    /// The next entity-tag of the list at `index` (`[W/] DQUOTE *etagc DQUOTE`), with the
    /// separators after it consumed; nil when the list is malformed there.
    private static func nextTag(_ field: UnsafeRawBufferPointer, _ index: inout Int) -> (weak: Bool, opaque: Range<Int>)? {
        var weak = false
        if index + 1 < field.count, field[index] == UInt8(ascii: "W"), field[index + 1] == UInt8(ascii: "/") {
            weak = true
            index += 2
        }
        guard index < field.count, field[index] == UInt8(ascii: "\"") else { return nil }
        let start = index
        index += 1
        while index < field.count, field[index] != UInt8(ascii: "\"") { index += 1 }
        guard index < field.count else { return nil }
        index += 1
        let opaque = start..<index
        // Tags are separated by a comma: "\"a\" \"b\"" is not a list of two.
        var sawComma = false
        while index < field.count, field[index] == .space || field[index] == UInt8(ascii: "\t") || field[index] == UInt8(ascii: ",") {
            sawComma = sawComma || field[index] == UInt8(ascii: ",")
            index += 1
        }
        guard index == field.count || sawComma else { return nil }
        return (weak, opaque)
    }

    /// Skips OWS and the commas of a list, including empty elements (§5.6.1).
    private static func skipSeparators(_ field: UnsafeRawBufferPointer, _ index: inout Int) {
        while index < field.count, field[index] == .space || field[index] == UInt8(ascii: "\t") || field[index] == UInt8(ascii: ",") {
            index += 1
        }
    }

    private static func equal(_ field: UnsafeRawBufferPointer, _ range: Range<Int>, _ current: UnsafeRawBufferPointer) -> Bool {
        range.count == current.count && memcmp(field.baseAddress! + range.lowerBound, current.baseAddress!, range.count) == 0
    }
}

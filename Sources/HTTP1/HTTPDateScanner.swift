// DateScanner: the byte-level reading of the three HTTP-date formats of
// RFC 9110 §5.6.7, for HTTPDate.parse. It reads forward over borrowed bytes.

struct DateScanner {
    private let bytes: UnsafeRawBufferPointer
    private var index = 0

    init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    private static let fullDayNames: [StaticString] = ["Monday", "Tuesday", "Wednesday", "Thursday",
                                                        "Friday", "Saturday", "Sunday"]

    var atEnd: Bool { index == bytes.count }

    /// Consumes `byte` if it is next.
    mutating func take(_ byte: UInt8) -> Bool {
        guard index < bytes.count, bytes[index] == byte else { return false }
        index += 1
        return true
    }

    /// A day name, short ("Sun", IMF-fixdate and asctime) or long ("Sunday", RFC 850).
    mutating func skipDayName() -> Bool {
        var end = index
        while end < bytes.count, (bytes[end] | 0x20) >= UInt8(ascii: "a"), (bytes[end] | 0x20) <= UInt8(ascii: "z") { end += 1 }
        let count = end - index
        defer { index = end }
        if count == 3 { return HTTPDate.isDayName(bytes[index], bytes[index + 1], bytes[index + 2]) }
        return Self.fullDayNames.contains { name in
            name.utf8CodeUnitCount == count && (0..<count).allSatisfy { name.utf8Start[$0] == bytes[index + $0] }
        }
    }

    /// After "Sun,": " 06 Nov 1994 08:49:37 GMT" (IMF-fixdate) or " 06-Nov-94 08:49:37 GMT" (RFC 850).
    mutating func fixdateOrRFC850() -> DateFields? {
        var fields = DateFields()
        guard take(.space), let day = digits(2) else { return nil }
        fields.day = day
        if take(.space) {
            guard let month = month(), take(.space), let year = digits(4) else { return nil }
            fields.month = month
            fields.year = year
        } else {
            guard take(UInt8(ascii: "-")), let month = month(), take(UInt8(ascii: "-")), let year = digits(2) else { return nil }
            fields.month = month
            fields.year = year < 70 ? 2000 + year : 1900 + year
        }
        guard take(.space), time(into: &fields), take(.space),
              take(UInt8(ascii: "G")), take(UInt8(ascii: "M")), take(UInt8(ascii: "T")) else { return nil }
        return fields
    }

    /// After "Sun": " Nov  6 08:49:37 1994" (asctime: the day is space-padded).
    mutating func asctime() -> DateFields? {
        var fields = DateFields()
        guard take(.space), let month = month(), take(.space) else { return nil }
        fields.month = month
        if take(.space) {
            guard let day = digits(1) else { return nil }
            fields.day = day
        } else {
            guard let day = digits(2) else { return nil }
            fields.day = day
        }
        guard take(.space), time(into: &fields), take(.space), let year = digits(4) else { return nil }
        fields.year = year
        return fields
    }

    /// "08:49:37".
    private mutating func time(into fields: inout DateFields) -> Bool {
        guard let hour = digits(2), take(UInt8(ascii: ":")), let minute = digits(2), take(UInt8(ascii: ":")),
              let second = digits(2) else { return false }
        fields.hour = hour
        fields.minute = minute
        fields.second = second
        return true
    }

    /// A three-letter month name, as a number 1–12.
    private mutating func month() -> Int? {
        guard index + 3 <= bytes.count,
              let month = HTTPDate.month(bytes[index], bytes[index + 1], bytes[index + 2]) else { return nil }
        index += 3
        return month
    }

    /// Exactly `count` decimal digits.
    private mutating func digits(_ count: Int) -> Int? {
        guard index + count <= bytes.count else { return nil }
        var value = 0
        for offset in 0..<count {
            let digit = bytes[index + offset] &- UInt8(ascii: "0")
            guard digit <= 9 else { return nil }
            value = value * 10 + Int(digit)
        }
        index += count
        return value
    }
}

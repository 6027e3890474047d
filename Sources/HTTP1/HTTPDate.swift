// HTTPDate: HTTP-date values (RFC 9110 §5.6.7) as seconds since the epoch:
// formatting as IMF-fixdate, and parsing of all three formats a recipient must
// accept (IMF-fixdate, the obsolete RFC 850 and asctime forms). Pure arithmetic
// over bytes: no Foundation, no locale, no allocation when parsing.

public enum HTTPDate {
    /// The length of an IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT".
    public static let length = 29

    private static let dayNames: StaticString = "SunMonTueWedThuFriSat"
    private static let monthNames: StaticString = "JanFebMarAprMayJunJulAugSepOctNovDec"

    /// `seconds` since the epoch as an IMF-fixdate (always in GMT).
    public static func format(_ seconds: Int) -> String {
        String(unsafeUninitializedCapacity: length) { buffer in
            format(seconds, into: UnsafeMutableRawBufferPointer(buffer))
            return length
        }
    }

    /// Writes the IMF-fixdate of `seconds` into the first `length` bytes of `buffer`.
    public static func format(_ seconds: Int, into buffer: UnsafeMutableRawBufferPointer) {
        precondition(buffer.count >= length, "an IMF-fixdate takes \(length) bytes")
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let timeOfDay = seconds - days * 86_400
        let (year, month, day) = civil(fromDays: days)
        let weekday = ((days % 7) + 11) % 7  // 1970-01-01 was a Thursday (4)
        var cursor = 0
        func put(_ byte: UInt8) { buffer[cursor] = byte; cursor += 1 }
        func putName(_ table: StaticString, _ index: Int) {
            for offset in 0..<3 { put(table.utf8Start[index * 3 + offset]) }
        }
        func putTwoDigits(_ value: Int) { put(UInt8(48 + value / 10)); put(UInt8(48 + value % 10)) }
        putName(dayNames, weekday)
        put(UInt8(ascii: ",")); put(.space)
        putTwoDigits(day); put(.space)
        putName(monthNames, month - 1); put(.space)
        putTwoDigits(year / 100 % 100); putTwoDigits(year % 100); put(.space)
        putTwoDigits(timeOfDay / 3600); put(UInt8(ascii: ":"))
        putTwoDigits(timeOfDay / 60 % 60); put(UInt8(ascii: ":"))
        putTwoDigits(timeOfDay % 60); put(.space)
        put(UInt8(ascii: "G")); put(UInt8(ascii: "M")); put(UInt8(ascii: "T"))
    }

    /// The seconds since the epoch an HTTP-date names, or nil when `bytes` is none of the
    /// three formats (a recipient then ignores the field: RFC 9110 §13.1.3, §13.1.4).
    ///
    /// The weekday name must be one, but is not checked against the date (as nginx).
    /// RFC 850's two-digit year is read as 1970–2069 (RFC 9110 §5.6.7 asks for the
    /// most recent year with those digits not more than 50 years ahead; a fixed window
    /// keeps this a pure function, and only dates before 2019 or after 2069 differ).
    public static func parse(_ bytes: UnsafeRawBufferPointer) -> Int? {
        var scanner = DateScanner(bytes)
        guard scanner.skipDayName() else { return nil }
        let fields = scanner.take(UInt8(ascii: ",")) ? scanner.fixdateOrRFC850() : scanner.asctime()
        guard let fields, scanner.atEnd else { return nil }
        return fields.seconds
    }

    /// The month (1–12) whose three-letter name starts at `name`, case-sensitive as RFC 9110 §5.6.7 spells them.
    static func month(_ first: UInt8, _ second: UInt8, _ third: UInt8) -> Int? {
        for index in 0..<12 {
            let name = monthNames.utf8Start + index * 3
            if name[0] == first && name[1] == second && name[2] == third { return index + 1 }
        }
        return nil
    }

    /// Whether the three bytes are a day name ("Mon").
    static func isDayName(_ first: UInt8, _ second: UInt8, _ third: UInt8) -> Bool {
        for index in 0..<7 {
            let name = dayNames.utf8Start + index * 3
            if name[0] == first && name[1] == second && name[2] == third { return true }
        }
        return false
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
    static func days(year: Int, month: Int, day: Int) -> Int {
        let shiftedYear = month <= 2 ? year - 1 : year
        let era = (shiftedYear >= 0 ? shiftedYear : shiftedYear - 399) / 400
        let yearOfEra = shiftedYear - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The date `days` after 1970-01-01 (H. Hinnant's civil_from_days).
    static func civil(fromDays days: Int) -> (year: Int, month: Int, day: Int) {
        let shifted = days + 719_468
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
        let month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }
}

/// The parts of a parsed date, checked for range before they become seconds.
struct DateFields {
    var year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0

    var seconds: Int? {
        guard (1...12).contains(month), day >= 1, day <= HTTPDate.daysIn(month: month, year: year),
              hour <= 23, minute <= 59, second <= 60 else { return nil }
        // A leap second (":60") names the same instant as the next second's start, as timegm does.
        return HTTPDate.days(year: year, month: month, day: day) * 86_400 + hour * 3600 + minute * 60 + second
    }
}

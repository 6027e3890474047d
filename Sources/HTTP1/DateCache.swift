// DateCache: the Date header's value (RFC 9110 §5.6.7, IMF-fixdate), formatted
// at most once a second instead of once per response.
import Glibc
import ServerSystem

@usableFromInline
package final class DateCache {
    package static let length = 29  // "Sun, 06 Nov 1994 08:49:37 GMT"
    @usableFromInline let bytes = UnsafeMutablePointer<UInt8>.allocate(capacity: DateCache.length)
    /// Only the owning loop or thread touches it: unchecked, as the other per-request state.
    @exclusivity(unchecked) @usableFromInline var second = Int.min

    package init() {
        refresh(now: Clock.wallClockSeconds())
    }

    deinit {
        bytes.deallocate()
    }

    /// The current value, valid until the next refresh.
    package var value: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: bytes, count: DateCache.length) }

    /// Reformats the date if the second has changed since the last call.
    @inlinable
    package func refresh(now: Int) {
        guard now != second else { return }
        second = now
        var seconds = time_t(now)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        format(parts)
    }

    @usableFromInline
    func format(_ parts: tm) {
        let days: StaticString = "SunMonTueWedThuFriSat"
        let months: StaticString = "JanFebMarAprMayJunJulAugSepOctNovDec"
        var cursor = 0
        func put(_ byte: UInt8) { bytes[cursor] = byte; cursor += 1 }
        func putName(_ table: StaticString, _ index: Int) {
            for offset in 0..<3 { put(table.utf8Start[index * 3 + offset]) }
        }
        func putTwoDigits(_ value: Int) { put(UInt8(48 + value / 10)); put(UInt8(48 + value % 10)) }
        putName(days, Int(parts.tm_wday))
        put(UInt8(ascii: ",")); put(.space)
        putTwoDigits(Int(parts.tm_mday)); put(.space)
        putName(months, Int(parts.tm_mon)); put(.space)
        let year = Int(parts.tm_year) + 1900
        putTwoDigits(year / 100); putTwoDigits(year % 100); put(.space)
        putTwoDigits(Int(parts.tm_hour)); put(UInt8(ascii: ":"))
        putTwoDigits(Int(parts.tm_min)); put(UInt8(ascii: ":"))
        putTwoDigits(Int(parts.tm_sec)); put(.space)
        put(UInt8(ascii: "G")); put(UInt8(ascii: "M")); put(UInt8(ascii: "T"))
    }
}

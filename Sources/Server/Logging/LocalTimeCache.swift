// LocalTimeCache: nginx's $time_local ("23/Nov/2026:16:47:59 +0000"), the
// access log's timestamp in the server's time zone, formatted once a second.
import Glibc

final class LocalTimeCache {
    static let length = 26
    private let bytes = UnsafeMutablePointer<UInt8>.allocate(capacity: LocalTimeCache.length)
    private var second = Int.min

    init() {
        // localtime_r, unlike localtime, need not read TZ itself; read it once here.
        tzset()
        bytes.initialize(repeating: UInt8(ascii: " "), count: Self.length)
    }

    deinit { bytes.deallocate() }

    /// The time `now` (wall-clock seconds) as $time_local, valid until the next call.
    func value(now: Int) -> UnsafeRawBufferPointer {
        if now != second {
            second = now
            format(now)
        }
        return UnsafeRawBufferPointer(start: bytes, count: Self.length)
    }

    private func format(_ now: Int) {
        var seconds = time_t(now)
        var parts = tm()
        localtime_r(&seconds, &parts)
        let months: StaticString = "JanFebMarAprMayJunJulAugSepOctNovDec"
        var cursor = 0
        func put(_ byte: UInt8) { bytes[cursor] = byte; cursor += 1 }
        func putTwoDigits(_ value: Int) { put(UInt8(48 + value / 10 % 10)); put(UInt8(48 + value % 10)) }
        putTwoDigits(Int(parts.tm_mday)); put(UInt8(ascii: "/"))
        for offset in 0..<3 { put(months.utf8Start[Int(parts.tm_mon) * 3 + offset]) }
        put(UInt8(ascii: "/"))
        let year = Int(parts.tm_year) + 1900
        putTwoDigits(year / 100); putTwoDigits(year % 100); put(UInt8(ascii: ":"))
        putTwoDigits(Int(parts.tm_hour)); put(UInt8(ascii: ":"))
        putTwoDigits(Int(parts.tm_min)); put(UInt8(ascii: ":"))
        putTwoDigits(Int(parts.tm_sec)); put(.space)
        let offsetMinutes = parts.tm_gmtoff / 60
        put(offsetMinutes < 0 ? UInt8(ascii: "-") : UInt8(ascii: "+"))
        putTwoDigits(abs(offsetMinutes) / 60); putTwoDigits(abs(offsetMinutes) % 60)
    }
}

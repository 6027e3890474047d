// RequestID: a request's id, as `--request-id` gives one to every request: the
// client's (or a proxy's) `X-Request-Id` when it is 1 to 200 characters of
// [A-Za-z0-9-_.:+=/@] (what tracing systems and proxies send, and nothing
// that could break a log line or a header), otherwise 128 random bits as 32
// lowercase hex digits. A malformed id is replaced, never echoed.
import HTTP1

public enum RequestID {
    /// The longest id accepted from a client.
    public static let maximumLength = 200

    /// `value` if it is an acceptable id, else nil.
    public static func accepted(_ value: UnsafeRawBufferPointer) -> String? {
        guard (1...maximumLength).contains(value.count), value.allSatisfy(isIDByte) else { return nil }
        return String(decoding: value, as: UTF8.self)
    }

    /// The id for `request`: its valid `X-Request-Id`, or a new one.
    public static func of(_ request: Request) -> String {
        request.header("x-request-id").flatMap { accepted($0.bytes) } ?? generate()
    }

    /// 32 lowercase hex digits of fresh randomness (getrandom(2) through the standard library).
    public static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        let high = generator.next() as UInt64
        let low = generator.next() as UInt64
        return String(unsafeUninitializedCapacity: 32) { out in
            for index in 0..<16 {
                let word = index < 8 ? high : low
                let byte = UInt8(truncatingIfNeeded: word >> UInt64(56 - 8 * (index % 8)))
                out[2 * index] = hexDigits[Int(byte >> 4)]
                out[2 * index + 1] = hexDigits[Int(byte & 0x0F)]
            }
            return 32
        }
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    private static func isIDByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        case UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: ":"), UInt8(ascii: "+"),
             UInt8(ascii: "="), UInt8(ascii: "/"), UInt8(ascii: "@"):
            return true
        default:
            return false
        }
    }
}

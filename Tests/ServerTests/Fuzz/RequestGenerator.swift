// RequestGenerator: seeded random inputs for the property tests: byte soup,
// well-formed requests (the four target forms, Content-Length, chunked with
// extensions and trailers, pipelined, HTTP/1.0, Expect), and mutations of them
// that aim at the bytes parsers disagree about (CR, LF, NUL, space, ':', ';',
// digits, line order).

/// SplitMix64 (Steele, Lea and Flood, 2014): a tiny generator whose whole state
/// is one integer, so a failing case reproduces from its seed alone.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var mixed = state
        mixed = (mixed ^ (mixed >> 30)) &* 0xBF58_476D_1CE4_E5B9
        mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
        return mixed ^ (mixed >> 31)
    }
}

struct RequestGenerator {
    var rng: SplitMix64

    init(seed: UInt64) {
        rng = SplitMix64(seed: seed)
    }

    mutating func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &rng) }
    mutating func chance(_ percent: Int) -> Bool { int(0...99) < percent }
    mutating func pick<T>(_ choices: [T]) -> T { choices[int(0...choices.count - 1)] }

    // MARK: Inputs

    /// Half random bytes, half a soup of HTTP fragments that often lands near valid syntax.
    mutating func randomBytes() -> [UInt8] {
        if chance(50) { return (0..<int(0...200)).map { _ in UInt8.random(in: 0...255, using: &rng) } }
        let fragments = ["GET", "POST", "OPTIONS", "CONNECT", " ", "/", "/x?y=z", "*", "http://h", "h:443",
                         "HTTP/1.1", "HTTP/1.0", "HTTP/2.0", "\r\n", "\n", "\r",
                         "\r\n\r\n", "Host: h", "Host:", "Content-Length: ", "Transfer-Encoding: chunked",
                         "Expect: 100-continue", "Connection: close", ":", ";", "=", "\"", "\\", "0", "5", "ff", "\0",
                         "\t", "abc"]
        return Array((0..<int(1...30)).map { _ in pick(fragments) }.joined().utf8)
    }

    /// One to three valid requests back to back, then up to three mutations (none in a
    /// third of the cases, so that pipelines of valid requests are common too).
    mutating func mutatedRequests() -> [UInt8] {
        var bytes: [UInt8] = []
        for _ in 0..<int(1...3) { bytes += validRequest() }
        for _ in 0..<pick([0, 0, 1, 1, 1, 2, 3]) { mutate(&bytes) }
        return bytes
    }

    mutating func validRequest() -> [UInt8] {
        let http10 = chance(20)
        let eol = chance(10) ? "\n" : "\r\n"  // RFC 9112 §2.2 lets a bare LF end a head line
        let (method, target) = methodAndTarget()
        var head = "\(method) \(target) HTTP/1.\(http10 ? 0 : 1)\(eol)"
        var fields: [String] = []
        if !http10 || chance(50) { fields.append(pick(["Host: example.com", "Host: h:8080", "host: [::1]"])) }
        let padding = "X-Pad: " + String(repeating: "v", count: int(0...60))
        for _ in 0..<int(0...3) { fields.append(pick(["Accept: */*", "User-Agent: fuzz/1", padding, "X-Close: 1"])) }
        if chance(15) { fields.append(http10 ? "Connection: keep-alive" : "Connection: close") }
        if chance(25) { fields.append("Expect: 100-continue") }
        var body: [UInt8] = []
        switch (http10, int(0...2)) {
        case (_, 1):
            body = Array(String(repeating: "b", count: int(0...60)).utf8)
            fields.append("Content-Length: \(body.count)")
        case (false, 2):
            fields.append(pick(["Transfer-Encoding: chunked", "transfer-encoding: CHUNKED"]))
            body = chunkedBody()
        default:
            break
        }
        fields.shuffle(using: &rng)
        for field in fields { head += field + eol }
        return Array((head + eol).utf8) + body
    }

    /// A method and a target in a form that method may use (RFC 9112 §3.2): origin-form and
    /// absolute-form with any method but CONNECT, asterisk-form with OPTIONS, authority-form with CONNECT.
    mutating func methodAndTarget() -> (method: String, target: String) {
        switch int(0...9) {
        case 0:
            return ("OPTIONS", "*")
        case 1:
            return ("CONNECT", pick(["example.com:443", "[::1]:8080", "h:80"]))
        default:
            let longPath = "/" + String(repeating: "p", count: int(0...80))
            let targets = ["/", "/a/b?c=d", "http://example.com/x", "HTTPS://h:8443?q=1", "http://h", "/%20", longPath]
            return (pick(["GET", "POST", "PUT", "HEAD", "DELETE", "OPTIONS", "PATCH"]), pick(targets))
        }
    }

    /// chunk *( chunk ) last-chunk trailer-section CRLF (RFC 9112 §7.1), random sizes and extensions.
    mutating func chunkedBody() -> [UInt8] {
        var text = ""
        for _ in 0..<int(0...4) {
            let size = int(1...40)
            let hex = String(size, radix: 16, uppercase: chance(50))
            let ext = pick(["", ";a", ";name=value", " ; q=\"x y\"", ";a=1;b=2", ";e=\"\\\";\"", "\t;\tt = v"])
            let zeros = String(repeating: "0", count: pick([0, 0, 0, 1, 16]))
            text += "\(zeros)\(hex)\(ext)\r\n\(String(repeating: "c", count: size))\r\n"
        }
        text += "\(pick(["0", "0", "0000000000000000"]))\(chance(20) ? ";last" : "")\r\n"
        if chance(25) { text += "X-Trailer: t\r\n" }
        return Array((text + "\r\n").utf8)
    }

    // MARK: Mutations

    mutating func mutate(_ bytes: inout [UInt8]) {
        let position = int(0...bytes.count)
        switch int(0...6) {
        case 0 where position < bytes.count:
            bytes[position] ^= 1 << UInt8(int(0...7))
        case 1:
            bytes.insert(pick(Array("\r\n\0 :;\t0a".utf8) + [0x7F]), at: position)
        case 2 where position < bytes.count:
            bytes.remove(at: position)
        case 3:
            bytes.removeSubrange(position...)
        case 4:
            duplicateLine(&bytes)
        case 5 where position < bytes.count && (48...57).contains(bytes[position]):
            bytes[position] = UInt8(int(48...57))
        default:
            bytes.insert(contentsOf: Array(pick(["\r", "\n", "\r\n", " ", "0", "Content-Length: 3\r\n"]).utf8), at: position)
        }
    }

    /// Repeats one line (a header field, most often) right after itself.
    private mutating func duplicateLine(_ bytes: inout [UInt8]) {
        let lineFeeds = bytes.indices.filter { bytes[$0] == UInt8(ascii: "\n") }
        let starts = [0] + lineFeeds.map { $0 + 1 }.filter { $0 < bytes.count }
        let start = pick(starts)
        let end = bytes[start...].firstIndex(of: UInt8(ascii: "\n")).map { $0 + 1 } ?? bytes.count
        bytes.insert(contentsOf: bytes[start..<end], at: end)
    }
}

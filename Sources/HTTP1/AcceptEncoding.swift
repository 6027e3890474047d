// AcceptEncoding: the client's preferences among content codings (RFC 9110
// §12.5.3), parsed from its Accept-Encoding field lines without allocating,
// and the choice of the best coding a response can offer.
//
// Parsing is tolerant, as a server must be with what clients send: empty list
// elements are skipped (§5.6.1), codings and the `q` name match case-
// insensitively, whitespace around `,` `;` `=` is optional, and an element that
// does not parse (a bad weight, a stray byte) is ignored as if it were absent.

/// The weights (in thousandths, 0...1000) a client gave the codings this server knows.
public struct AcceptEncoding: Equatable, Sendable {
    /// The weight each coding was listed with, nil when it was not listed.
    public private(set) var gzip: Int?
    public private(set) var br: Int?
    public private(set) var identity: Int?
    /// The weight of `*`: any coding not listed.
    public private(set) var any: Int?
    /// Whether the request carried the field at all.
    public private(set) var present = false

    /// No Accept-Encoding field: nothing but identity is sent (as nginx does, although
    /// §12.5.3 allows any coding then: old clients that send no field often cannot decode).
    public init() {}

    /// Adds one Accept-Encoding field line's value (a request may carry several: §5.3 joins them into one list).
    public mutating func add(_ value: UnsafeRawBufferPointer) {
        present = true
        var index = 0
        while index < value.count {
            let end = Self.end(of: value, from: index, at: UInt8(ascii: ","))
            parseElement(UnsafeRawBufferPointer(rebasing: value[index..<end]))
            index = end + 1
        }
    }

    /// The preferences in the field lines named accept-encoding among `request`'s.
    public init(of request: Request) {
        for index in 0..<request.headerCount {
            let field = request.header(at: index)
            if Self.equalIgnoringCase(field.name.bytes, "accept-encoding") { add(field.value.bytes) }
        }
    }

    /// The weight the client gives `coding`, in thousandths: 0 means not acceptable.
    ///
    /// Identity, unless listed or excluded by `*;q=0`, is acceptable with the lowest
    /// weight (§12.5.3: "acceptable by default"), so any coding listed as acceptable wins over it.
    public func quality(of coding: ContentCoding) -> Int {
        switch coding {
        case .gzip: return gzip ?? any ?? 0
        case .br: return br ?? any ?? 0
        case .identity: return identity ?? any.map { $0 == 0 ? 0 : 1 } ?? 1
        }
    }

    /// The best of the codings `offered` for this client: the highest weight, and on a tie
    /// the server's preference (br, then gzip, then identity: the smaller body). Identity
    /// when nothing offered is acceptable: §12.5.3 says to respond without a coding rather than refuse.
    public func preferred(among offered: ContentCodings) -> ContentCoding {
        var best = ContentCoding.identity
        var bestQuality = 0
        for coding in Self.serverPreference where offered.contains(coding) {
            let quality = quality(of: coding)
            if quality > bestQuality {
                best = coding
                bestQuality = quality
            }
        }
        return best
    }

    private static let serverPreference: [ContentCoding] = [.br, .gzip, .identity]

    /// The index of the first `separator` at or after `start` (or the end).
    private static func end(of value: UnsafeRawBufferPointer, from start: Int, at separator: UInt8) -> Int {
        var index = start
        while index < value.count && value[index] != separator { index += 1 }
        return index
    }

    /// `coding *( OWS ";" OWS name "=" value )`, the weight being the parameter named q.
    private mutating func parseElement(_ element: UnsafeRawBufferPointer) {
        var end = Self.end(of: element, from: 0, at: UInt8(ascii: ";"))
        let coding = Self.trimmed(UnsafeRawBufferPointer(rebasing: element[..<end]))
        // An empty list element (or parameters with no coding), or a stray byte: ignored.
        guard !coding.isEmpty && coding.allSatisfy(Bytes.isTokenChar) else { return }
        var weight = 1000
        while end < element.count {
            let start = end + 1
            end = Self.end(of: element, from: start, at: UInt8(ascii: ";"))
            guard let parsed = Self.weight(of: UnsafeRawBufferPointer(rebasing: element[start..<end])) else { return }
            if parsed >= 0 { weight = parsed }
        }
        record(coding, weight)
    }

    /// The first weight listed for a coding stands; a repeated coding is ignored.
    private mutating func record(_ coding: UnsafeRawBufferPointer, _ weight: Int) {
        if Self.equalIgnoringCase(coding, "gzip") || Self.equalIgnoringCase(coding, "x-gzip") {
            // §8.4.1.3: x-gzip is to be taken as gzip.
            if gzip == nil { gzip = weight }
        } else if Self.equalIgnoringCase(coding, "br") {
            if br == nil { br = weight }
        } else if Self.equalIgnoringCase(coding, "identity") {
            if identity == nil { identity = weight }
        } else if coding.count == 1 && coding[0] == UInt8(ascii: "*") {
            if any == nil { any = weight }
        }
    }

    /// A parameter's weight when it is `q=qvalue`, -1 for another well-formed parameter
    /// (ignored), nil when it is malformed (the element is then ignored).
    private static func weight(of parameter: UnsafeRawBufferPointer) -> Int? {
        guard let equals = parameter.firstIndex(of: UInt8(ascii: "=")) else { return nil }
        let name = trimmed(UnsafeRawBufferPointer(rebasing: parameter[..<equals]))
        let value = trimmed(UnsafeRawBufferPointer(rebasing: parameter[(equals + 1)...]))
        guard !name.isEmpty && name.allSatisfy(Bytes.isTokenChar) else { return nil }
        guard equalIgnoringCase(name, "q") else { return value.isEmpty ? nil : -1 }
        return qvalue(value)
    }

    /// §12.4.2: `( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )`, in thousandths.
    static func qvalue(_ text: UnsafeRawBufferPointer) -> Int? {
        guard let first = text.first, first == UInt8(ascii: "0") || first == UInt8(ascii: "1") else { return nil }
        var thousandths = first == UInt8(ascii: "1") ? 1000 : 0
        guard text.count > 1 else { return thousandths }
        guard text[1] == UInt8(ascii: "."), text.count <= 5 else { return nil }
        var scale = 100
        for digit in text.dropFirst(2) {
            guard digit >= UInt8(ascii: "0") && digit <= UInt8(ascii: "9") else { return nil }
            thousandths += Int(digit - UInt8(ascii: "0")) * scale
            scale /= 10
        }
        return thousandths <= 1000 ? thousandths : nil
    }

    private static func trimmed(_ bytes: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        var start = 0
        var end = bytes.count
        while start < end && (bytes[start] == UInt8(ascii: " ") || bytes[start] == UInt8(ascii: "\t")) { start += 1 }
        while end > start && (bytes[end - 1] == UInt8(ascii: " ") || bytes[end - 1] == UInt8(ascii: "\t")) { end -= 1 }
        return UnsafeRawBufferPointer(rebasing: bytes[start..<end])
    }

    /// Whether `bytes` spell `lowercase` in any case (ASCII letters fold; nothing else does).
    package static func equalIgnoringCase(_ bytes: UnsafeRawBufferPointer, _ lowercase: StaticString) -> Bool {
        guard bytes.count == lowercase.utf8CodeUnitCount else { return false }
        for index in 0..<bytes.count {
            var byte = bytes[index]
            if byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") { byte += 0x20 }
            if byte != lowercase.utf8Start[index] { return false }
        }
        return true
    }
}

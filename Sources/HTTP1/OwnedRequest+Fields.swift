// OwnedRequest+Fields: the owned request's header fields by run-time name, and
// all of them in order, for handlers that look fields up from data (a route's
// configuration, a proxy's list) rather than from a string literal.

extension OwnedRequest {
    /// The value of the first field named `name`, matched ignoring case (RFC 9110 §5.1).
    public func header(named name: String) -> String? {
        let wanted = Array(name.utf8)
        return withRequest { request in
            for index in 0..<request.headerCount {
                let field = request.header(at: index)
                if Self.equalIgnoringCase(field.name.bytes, wanted) { return field.value.string }
            }
            return nil
        }
    }

    /// Every header field as sent, in arrival order (names keep the client's case).
    public var headers: [(name: String, value: String)] {
        withRequest { request in
            (0..<request.headerCount).map { index in
                let field = request.header(at: index)
                return (field.name.string, field.value.string)
            }
        }
    }

    /// The body's length in bytes, without copying it.
    public var bodyCount: Int { withRequest { $0.body.count } }

    /// The body handed to `body` without a copy, valid inside the call only.
    public func withBody<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        try withRequest { try body($0.body.bytes) }
    }

    private static func equalIgnoringCase(_ bytes: UnsafeRawBufferPointer, _ wanted: [UInt8]) -> Bool {
        bytes.count == wanted.count && zip(bytes, wanted).allSatisfy { lowercased($0) == lowercased($1) }
    }

    private static func lowercased(_ byte: UInt8) -> UInt8 {
        byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte
    }
}

// ChunkedWriter: the sending side of the chunked transfer coding (RFC 9112
// §7.1): each piece of a streamed body of unknown length as
// `chunk-size CRLF chunk-data CRLF`, and the end as the last chunk `0 CRLF`
// followed by the empty trailer section's CRLF.
import Glibc

package enum ChunkedWriter {
    /// Room kept in front of a piece for its size line: 16 hex digits (an Int's) and CRLF.
    static let sizeLineRoom = 18

    /// Asks `produce` for at most `maximum` bytes and appends them to `out` as one
    /// chunk, or appends the last chunk when it produces none.
    /// - Returns: true when that was the last chunk (the body is complete).
    package static func appendChunk(into out: ByteBuffer, maximum: Int,
                                    produce: (UnsafeMutableRawBufferPointer) -> Int) -> Bool {
        guard let isLast = appendPiece(into: out, maximum: maximum, produce: produce) else {
            preconditionFailure("a producer returned a negative count")
        }
        return isLast
    }

    /// `appendChunk` for a producer that may fail (a negative count, see BodyProducer):
    /// then nothing is appended and it returns nil, so the body is never ended as if complete.
    package static func appendPiece(into out: ByteBuffer, maximum: Int,
                                    produce: (UnsafeMutableRawBufferPointer) -> Int) -> Bool? {
        var isLast = false
        var failed = false
        out.withWritableSpace(minimum: sizeLineRoom + maximum + 2) { space in
            let data = UnsafeMutableRawBufferPointer(rebasing: space[sizeLineRoom..<(sizeLineRoom + maximum)])
            let count = produce(data)
            precondition(count <= maximum, "a producer wrote outside the buffer it was given")
            guard count > 0 else {
                if count < 0 { failed = true } else { isLast = true }
                return 0
            }
            // Size line first, then the data moved up behind it: hex without leading zeros, as every client expects.
            let sizeLine = hexDigits(count) + 2
            writeHex(count, into: UnsafeMutableRawBufferPointer(rebasing: space[0..<(sizeLine - 2)]))
            space[sizeLine - 2] = UInt8(ascii: "\r")
            space[sizeLine - 1] = UInt8(ascii: "\n")
            memmove(space.baseAddress! + sizeLine, data.baseAddress!, count)
            space[sizeLine + count] = UInt8(ascii: "\r")
            space[sizeLine + count + 1] = UInt8(ascii: "\n")
            return sizeLine + count + 2
        }
        if failed { return nil }
        if isLast { out.append("0\r\n\r\n") }
        return isLast
    }

    private static func hexDigits(_ value: Int) -> Int {
        var digits = 1
        var rest = value >> 4
        while rest > 0 { digits += 1; rest >>= 4 }
        return digits
    }

    private static func writeHex(_ value: Int, into digits: UnsafeMutableRawBufferPointer) {
        var rest = value
        for index in stride(from: digits.count - 1, through: 0, by: -1) {
            let nibble = UInt8(rest & 0xF)
            digits[index] = nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10
            rest >>= 4
        }
    }
}

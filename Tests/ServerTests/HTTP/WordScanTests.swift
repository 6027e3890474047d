// The parser skips header values and targets eight bytes at a time; a forbidden
// byte must be caught at every position within such a word, and allowed ones
// (tab, obs-text) must not end the value early.
@testable import HTTP1
@testable import Server
import XCTest

final class WordScanTests: XCTestCase {
    private func parse(_ bytes: [UInt8]) -> ParseResult {
        bytes.withUnsafeBytes { buffer in
            var scanned = ParseProgress()
            return RequestParser(limits: RequestLimits()).parse(buffer, progress: &scanned)
        }
    }

    private func statusOf(_ bytes: [UInt8]) -> Int? {
        switch parse(bytes) {
        case .invalid(let status): return status.code
        case .complete, .head: return 200
        case .incomplete: return nil
        }
    }

    func testControlBytesAnywhereInALongValueAreRejected() {
        for forbidden: UInt8 in [0x00, 0x01, 0x0B, 0x1F, 0x7F, UInt8(ascii: "\r")] {
            for position in 0..<24 {
                var value = Array(repeating: UInt8(ascii: "v"), count: 24)
                value[position] = forbidden
                let request = Array("GET / HTTP/1.1\r\nHost: h\r\nX-Long: ".utf8) + value + Array("\r\n\r\n".utf8)
                XCTAssertEqual(statusOf(request), 400, "byte \(forbidden) at \(position) of the value (RFC 9110 §5.5)")
            }
        }
    }

    func testControlBytesAnywhereInALongTargetAreRejected() {
        for forbidden: UInt8 in [0x00, 0x09, 0x1F, 0x7F] {
            for position in 1..<24 {
                var target = Array(repeating: UInt8(ascii: "t"), count: 24)
                target[0] = UInt8(ascii: "/")
                target[position] = forbidden
                let request = Array("GET ".utf8) + target + Array(" HTTP/1.1\r\nHost: h\r\n\r\n".utf8)
                XCTAssertEqual(statusOf(request), 400, "byte \(forbidden) at \(position) of the target (RFC 9112 §3.2)")
            }
        }
    }

    func testTabsAndObsTextInsideALongValueAreKept() {
        for position in 1..<23 {
            for allowed: UInt8 in [0x09, 0x80, 0xFF] {
                var value = Array(repeating: UInt8(ascii: "v"), count: 24)
                value[position] = allowed
                let request = Array("GET / HTTP/1.1\r\nHost: h\r\nX-Long: ".utf8) + value + Array("  \r\n\r\n".utf8)
                guard case .complete(let head) = parse(request) else {
                    XCTFail("byte \(allowed) at \(position) is allowed in a value (RFC 9110 §5.5)")
                    continue
                }
                let parser = RequestParser(limits: RequestLimits())
                let storage = HeaderStorage(limits: parser.limits)
                request.withUnsafeBytes { buffer in
                    var scanned = ParseProgress()
                    _ = parser.parse(buffer, progress: &scanned, fields: storage.buffer)
                    let view = Request(bytes: buffer, head: head, fields: UnsafeBufferPointer(storage.buffer))
                    XCTAssertEqual(view.header("x-long").map { Array($0.bytes) }, value, "trailing spaces trimmed, rest kept")
                }
            }
        }
    }

    /// Field names are skipped eight bytes at a time while a word holds only letters, digits and
    /// "-": every byte, at every position of a long name, must still be judged as tchar or not
    /// (RFC 9110 §5.6.2), including the neighbours of those ranges and bytes of 0x80 and above.
    func testEveryByteAtEveryPositionOfALongFieldNameIsJudgedAsATokenCharacter() {
        let tchar = Set(Array("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ".utf8))
        for position in 0..<24 {
            // Not the colon, which ends the name, nor LF, which ends the line (at position 0, the head).
            for byte in UInt8.min...UInt8.max where byte != UInt8(ascii: ":") && byte != UInt8(ascii: "\n") {
                var name = Array("Xy-Long-9Name-Of-24Bytes".utf8)
                name[position] = byte
                let request = Array("GET / HTTP/1.1\r\nHost: h\r\n".utf8) + name + Array(": v\r\n\r\n".utf8)
                XCTAssertEqual(statusOf(request), tchar.contains(byte) ? 200 : 400,
                               "byte \(byte) at \(position) of a field name")
            }
        }
    }
}

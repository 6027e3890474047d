// Chunked request bodies (RFC 9112 §7.1) arriving in pieces: the parser carries
// its ParseProgress between calls, so a body fed one byte at a time, or split
// anywhere, must frame and decode exactly as it does in one call, and the
// progress it reports (awaiting the body, expecting 100-continue) must be right
// at every step.
import XCTest
@testable import HTTP1
@testable import Server

final class ChunkedBodyTests: XCTestCase {
    private static func chunked(_ chunks: String, fields: String = "") -> String {
        "POST /up HTTP/1.1\r\nHost: h\r\n\(fields)Transfer-Encoding: chunked\r\n\r\n\(chunks)"
    }

    /// Requests with the body each one decodes to.
    private static let samples: [(request: String, body: String)] = [
        (chunked("5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"), "hello world"),
        (chunked("3;a=b\r\nabc\r\nA;q=\"x y\"\r\n0123456789\r\n0;z\r\nX-Sum: 1\r\nY:\r\n\r\n"), "abc0123456789"),
        (chunked("0\r\n\r\n"), ""),
        (chunked("2\r\n\r\n\r\n1\r\n0\r\n0\r\n\r\n"), "\r\n0"),
        ("\r\nPOST / HTTP/1.1\nHost: h\nTransfer-Encoding: chunked\n\n4\r\nwiki\r\n0\r\n\r\n", "wiki"),
        (chunked("5\r\nhello\r\n0\r\n\r\n", fields: "Expect: 100-continue\r\n"), "hello"),
        (chunked("00000000000000005 ; q = \"a\\\"b;c\"\r\nhello\r\n0000000000000000\r\n\r\n"), "hello"),
    ]

    func testFeedingOneByteAtATimeMatchesSingleShot() throws {
        for sample in Self.samples {
            let expected = try XCTUnwrap(singleShot(sample.request))
            XCTAssertEqual(expected.body, sample.body, sample.request.debugDescription)
            let bytes = Array(sample.request.utf8)
            let parser = RequestParser(limits: RequestLimits())
            var progress = ParseProgress()
            for length in 1...bytes.count {
                let label = "\(sample.request.debugDescription) after \(length) bytes"
                let before = progress.chunks.offset
                var buffer = Array(bytes[..<length])
                let result = buffer.withUnsafeBytes { parser.parse($0, progress: &progress) }
                XCTAssertGreaterThanOrEqual(progress.chunks.offset, before, "chunk offset went back: " + label)
                XCTAssertLessThanOrEqual(progress.chunks.offset, length, "chunk offset past the bytes: " + label)
                guard length == bytes.count else {
                    XCTAssertTrue(isIncomplete(result), "expected incomplete: " + label)
                    continue
                }
                XCTAssertEqual(Framed(result, &buffer), expected, label)
            }
        }
    }

    func testSplittingAnywhereMatchesSingleShot() throws {
        for sample in Self.samples {
            let expected = try XCTUnwrap(singleShot(sample.request))
            let bytes = Array(sample.request.utf8)
            for split in 0..<bytes.count {
                let parser = RequestParser(limits: RequestLimits())
                var progress = ParseProgress()
                let first = Array(bytes[..<split]).withUnsafeBytes { parser.parse($0, progress: &progress) }
                XCTAssertTrue(isIncomplete(first), "\(sample.request.debugDescription) cut at \(split)")
                var buffer = bytes
                let result = buffer.withUnsafeBytes { parser.parse($0, progress: &progress) }
                XCTAssertEqual(Framed(result, &buffer), expected, "\(sample.request.debugDescription) split at \(split)")
            }
        }
    }

    func testAwaitingBodyIsSetOnceTheHeadIsComplete() {
        let requests: [(head: String, body: String)] = [
            (Self.chunked(""), "5\r\nhello\r\n0\r\n\r\n"),
            ("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\n", "hello"),
        ]
        for (head, body) in requests {
            let bytes = Array((head + body).utf8)
            let headLength = head.utf8.count
            let parser = RequestParser(limits: RequestLimits())
            var progress = ParseProgress()
            for length in 0..<bytes.count {
                _ = Array(bytes[..<length]).withUnsafeBytes { parser.parse($0, progress: &progress) }
                XCTAssertEqual(progress.awaitingBody, length >= headLength,
                               "\(head.debugDescription) after \(length) of \(headLength) head bytes")
            }
        }
    }

    func testExpectContinueIsReportedWhileTheBodyIsAwaited() {
        let cases: [(name: String, head: String, expectsContinue: Bool)] = [
            ("100-continue before a chunked body (RFC 9110 §10.1.1)",
             "POST / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nTransfer-Encoding: chunked\r\n\r\n", true),
            ("100-continue before a Content-Length body (RFC 9110 §10.1.1)",
             "POST / HTTP/1.1\r\nHost: h\r\nExpect: 100-Continue\r\nContent-Length: 5\r\n\r\n", true),
            ("no Expect field (RFC 9110 §10.1.1)",
             "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n", false),
            ("100-continue from HTTP/1.0 is ignored (RFC 9110 §10.1.1)",
             "POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n", false),
        ]
        for testCase in cases {
            let parser = RequestParser(limits: RequestLimits())
            var progress = ParseProgress()
            let result = Array(testCase.head.utf8).withUnsafeBytes { parser.parse($0, progress: &progress) }
            XCTAssertTrue(isIncomplete(result), testCase.name)
            XCTAssertTrue(progress.awaitingBody, testCase.name)
            XCTAssertEqual(progress.expectsContinue, testCase.expectsContinue, testCase.name)
        }
    }

    func testProgressAdvancesOnlyPastWholeChunks() {
        let head = Self.chunked("")
        let parser = RequestParser(limits: RequestLimits())
        var progress = ParseProgress()
        let steps: [(body: String, offset: Int, bodyLength: Int)] = [
            ("5\r\nhel", 0, 0),
            ("5\r\nhello\r", 0, 0),
            ("5\r\nhello\r\n", 10, 5),
            ("5\r\nhello\r\n3\r\nabc\r\n0\r\n", 18, 8),
        ]
        for step in steps {
            let result = Array((head + step.body).utf8).withUnsafeBytes { parser.parse($0, progress: &progress) }
            XCTAssertTrue(isIncomplete(result), step.body.debugDescription)
            let expectedOffset = step.offset == 0 ? 0 : head.utf8.count + step.offset
            XCTAssertEqual(progress.chunks.offset, expectedOffset, step.body.debugDescription)
            XCTAssertEqual(progress.chunks.bodyLength, step.bodyLength, step.body.debugDescription)
        }
    }

    func testBadFramingFoundIncrementallyGetsTheSingleShotStatus() {
        let requests = [
            Self.chunked("5\r\nhello\n0\r\n\r\n"),
            Self.chunked("5\nhello\r\n0\r\n\r\n"),
            Self.chunked("3\r\nabc\r\nzz\r\n0\r\n\r\n"),
            Self.chunked("4\r\nabcd\r\n0\r\nBad Trailer\r\n\r\n"),
            Self.chunked("4;a=\"open\r\nabcd\r\n0\r\n\r\n"),
            Self.chunked("4;a=b;\r\nabcd\r\n0\r\n\r\n"),
            Self.chunked("4\r\nabcd\r\n0;x=\"\\\r\n\r\n"),
        ]
        for request in requests {
            let single = parse(Array(request.utf8), progress: nil)
            XCTAssertEqual(code(single), 400, request.debugDescription)
            let bytes = Array(request.utf8)
            let parser = RequestParser(limits: RequestLimits())
            var progress = ParseProgress()
            var verdict: ParseResult = .incomplete
            for length in 1...bytes.count where isIncomplete(verdict) {
                verdict = Array(bytes[..<length]).withUnsafeBytes { parser.parse($0, progress: &progress) }
            }
            XCTAssertEqual(code(verdict), 400, "fed one byte at a time: " + request.debugDescription)
        }
    }

    func testDecodingInPlaceLeavesThePipelinedRequestIntact() throws {
        let first = Self.chunked("3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n")
        let second = "GET /next HTTP/1.1\r\nHost: h\r\n\r\n"
        var bytes = Array((first + second).utf8)
        let framed = Framed(parse(bytes, progress: nil), &bytes)
        XCTAssertEqual(framed?.body, "abcdefg")
        XCTAssertEqual(framed?.totalLength, first.utf8.count)
        XCTAssertEqual(String(decoding: bytes[first.utf8.count...], as: UTF8.self), second)
        var rest = Array(bytes[first.utf8.count...])
        let next = try XCTUnwrap(Framed(parse(rest, progress: nil), &rest))
        XCTAssertEqual(next.totalLength, second.utf8.count)
    }

    // MARK: Helpers

    private func parse(_ bytes: [UInt8], progress: ParseProgress?) -> ParseResult {
        var progress = progress ?? ParseProgress()
        return bytes.withUnsafeBytes { RequestParser(limits: RequestLimits()).parse($0, progress: &progress) }
    }

    private func singleShot(_ request: String) -> Framed? {
        var bytes = Array(request.utf8)
        return Framed(parse(bytes, progress: nil), &bytes)
    }

    private func isIncomplete(_ result: ParseResult) -> Bool {
        if case .incomplete = result { return true }
        return false
    }

    private func code(_ result: ParseResult) -> Int? {
        if case .invalid(let status) = result { return status.code }
        return nil
    }
}

/// What a complete parse framed: lengths, and the body decoded in place.
private struct Framed: Equatable {
    let headLength: Int
    let totalLength: Int
    let bodyLength: Int
    let body: String

    /// Nil unless `result` is complete; decodes a chunked body in `bytes`.
    init?(_ result: ParseResult, _ bytes: inout [UInt8]) {
        guard case .complete(let head) = result else { return nil }
        let decoded = head.isChunked
            ? bytes.withUnsafeMutableBytes { ChunkedBody.decode($0, from: head.headLength) }
            : head.bodyLength
        headLength = head.headLength
        totalLength = head.totalLength
        bodyLength = decoded == head.bodyLength ? decoded : -1
        body = String(decoding: bytes[head.headLength..<head.headLength + decoded], as: UTF8.self)
    }
}

final class ChunkFramingLimitTests: XCTestCase {
    func testLongExtensionsOnTinyChunksAreRefusedOnceFramingOutgrowsItsBound() {
        var limits = RequestLimits()
        limits.maxBodyBytes = 100  // framing may then take 64 KiB
        let chunk = "1;" + String(repeating: "e", count: 4000) + "\r\nx\r\n"
        let request = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
            + String(repeating: chunk, count: 20) + "0\r\n\r\n"
        let verdict = Array(request.utf8).withUnsafeBytes { bytes in
            var progress = ParseProgress()
            return Verdict(RequestParser(limits: limits).parse(bytes, progress: &progress))
        }
        XCTAssertEqual(verdict, .rejected(413), "20 decoded bytes in 80 KB of framing")
    }
}

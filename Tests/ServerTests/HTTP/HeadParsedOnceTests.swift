// A request whose body arrives in several reads: its head is parsed once, when
// it completes, and its fields survive other requests parsed into the same
// header storage meanwhile (as other connections' requests are, in a worker).
import XCTest
@testable import HTTP1

final class HeadParsedOnceTests: XCTestCase {
    private let parser = RequestParser(limits: RequestLimits())
    private let head = "POST /upload HTTP/1.1\r\nHost: t\r\nX-Name: alpha\r\nX-Other: 1\r\n"

    func testAContentLengthBodyArrivingInSeveralReadsLeavesItsHeadParsedOnce() throws {
        let request = Array((head + "Content-Length: 12\r\n\r\nhello, world").utf8)
        let headLength = request.count - 12
        try assertParsedOnce(request, cuts: [headLength, headLength + 3, headLength + 7], body: "hello, world")
    }

    func testAChunkedBodyArrivingInSeveralReadsLeavesItsHeadParsedOnce() throws {
        let body = "5\r\nhello\r\n7\r\n, world\r\n0\r\n\r\n"
        let request = Array((head + "Transfer-Encoding: chunked\r\n\r\n" + body).utf8)
        let headLength = request.count - body.utf8.count
        try assertParsedOnce(request, cuts: [headLength, headLength + 4, headLength + 12, headLength + 24], body: body)
    }

    func testAnIdleRequestStateHoldsNoHeaderFields() {
        let progress = ParseProgress()
        XCTAssertNil(progress.parked, "fields are kept only while a body arrives")
        XCTAssertFalse(progress.awaitingBody)
    }

    /// Feeds `request` in reads ending at `cuts`, parsing another request into the same
    /// storage between reads, then checks the head was parsed once and its fields are its own.
    private func assertParsedOnce(_ request: [UInt8], cuts: [Int], body: String,
                                  file: StaticString = #filePath, line: UInt = #line) throws {
        let storage = HeaderStorage(limits: parser.limits)
        var progress = ParseProgress()
        for cut in cuts {
            let result = request.withUnsafeBytes { parser.parse(UnsafeRawBufferPointer(rebasing: $0[..<cut]), progress: &progress, fields: storage.buffer) }
            guard case .incomplete = result else { return XCTFail("complete after \(cut) bytes", file: file, line: line) }
            XCTAssertTrue(progress.awaitingBody, "the head completed in the first read", file: file, line: line)
            overwrite(storage)
        }
        let (name, other, sentBody) = try request.withUnsafeBytes { bytes in
            guard case .complete(let head) = parser.parse(bytes, progress: &progress, fields: storage.buffer) else {
                throw Incomplete()
            }
            let view = Request(bytes: bytes, head: head, fields: UnsafeBufferPointer(storage.buffer))
            let sent = String(decoding: bytes[head.headLength..<head.totalLength], as: UTF8.self)
            return (view.header("x-name")?.string, view.header("x-other")?.string, sent)
        }
        #if DEBUG  // The counter exists in debug builds only (see ParseProgress.headParses).
        XCTAssertEqual(progress.headParses, 1, "the head is parsed when it completes, not again with the body", file: file, line: line)
        #endif
        XCTAssertEqual(name, "alpha", file: file, line: line)
        XCTAssertEqual(other, "1", file: file, line: line)
        XCTAssertEqual(sentBody, body, file: file, line: line)
    }

    /// Another connection's request, parsed into the shared storage.
    private func overwrite(_ storage: HeaderStorage) {
        var progress = ParseProgress()
        let other = Array("GET /other HTTP/1.1\r\nX-Name: beta\r\nHost: other\r\nAccept: */*\r\nX-Other: 2\r\n\r\n".utf8)
        let result = other.withUnsafeBytes { parser.parse($0, progress: &progress, fields: storage.buffer) }
        guard case .complete = result else { return XCTFail("the other request parses") }
    }

    private struct Incomplete: Error {}
}

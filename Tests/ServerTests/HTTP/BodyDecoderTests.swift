// BodyDecoder, the framing of a streamed request body: the same data and the
// same end however the bytes are split across reads; what follows the body (a
// pipelined request) left alone; the strict chunk rules of a held body; the
// caller's limit answered with 413; and parseHead handing back the head before
// any body limit is applied.
import XCTest
@testable import HTTP1

private struct NotAHead: Error {
    let result: String
}

final class BodyDecoderTests: XCTestCase {
    private static let chunked = Array("5\r\nhello\r\n1;ext=1\r\n,\r\n6\r\n world\r\n0\r\nX-T: 1\r\n\r\nGET / HTTP/1.1\r\n".utf8)
    private static let chunkedEnd = chunked.count - "GET / HTTP/1.1\r\n".utf8.count

    private func head(_ fields: String) throws -> RequestHead {
        let parser = RequestParser(limits: RequestLimits())
        let storage = HeaderStorage(limits: RequestLimits())
        var progress = ParseProgress()
        let bytes = Array("POST / HTTP/1.1\r\nHost: t\r\n\(fields)\r\n".utf8)
        let result = bytes.withUnsafeBytes { parser.parseHead($0, progress: &progress, fields: storage.buffer) }
        guard case .head(let head) = result else { throw NotAHead(result: "\(result)") }
        return head
    }

    /// Feeds `bytes` as reads ending at `cuts`, keeping what the decoder has not consumed, as the connection does.
    private func decode(_ bytes: [UInt8], cuts: [Int], head: RequestHead, limit: Int = .max)
        -> (data: [UInt8], step: BodyDecoder.Step, consumed: Int) {
        var decoder = BodyDecoder(for: head, limit: limit, limits: RequestLimits())
        var data: [UInt8] = []
        var consumed = 0
        var last = BodyDecoder.Step.needMore(consumed: 0)
        for end in cuts + [bytes.count] {
            let step = Array(bytes[consumed..<end]).withUnsafeBytes { decoder.decode($0) { data += $0 } }
            last = step
            switch step {
            case .needMore(let count): consumed += count
            case .finished(let count): return (data, step, consumed + count)
            case .invalid: return (data, step, consumed)
            }
        }
        return (data, last, consumed)
    }

    func testAChunkedBodyDecodesAlikeWhereverTheReadsSplitIt() throws {
        let head = try head("Transfer-Encoding: chunked\r\n")
        for cut in 0...Self.chunked.count {
            let (data, step, consumed) = decode(Self.chunked, cuts: [cut], head: head)
            XCTAssertEqual(String(decoding: data, as: UTF8.self), "hello, world", "split at \(cut)")
            if case .finished = step {} else { XCTFail("not finished at split \(cut): \(step)") }
            XCTAssertEqual(consumed, Self.chunkedEnd, "the pipelined request is left alone (split at \(cut))")
        }
        let byteByByte = decode(Self.chunked, cuts: Array(1..<Self.chunked.count), head: head)
        XCTAssertEqual(String(decoding: byteByByte.data, as: UTF8.self), "hello, world")
        XCTAssertEqual(byteByByte.consumed, Self.chunkedEnd)
    }

    func testAContentLengthBodyEndsAtItsLength() throws {
        let head = try head("Content-Length: 5\r\n")
        let (data, step, consumed) = decode(Array("hel".utf8) + Array("loGET".utf8), cuts: [3], head: head)
        XCTAssertEqual(data, Array("hello".utf8))
        XCTAssertEqual(consumed, 5)
        if case .finished = step {} else { XCTFail("\(step)") }
    }

    func testBrokenChunkFramingIsRefusedAs400() throws {
        let head = try head("Transfer-Encoding: chunked\r\n")
        for broken in ["5\nhello\r\n0\r\n\r\n", "5\r\nhelloX\r\n0\r\n\r\n", "x\r\n", "5 \r\nhello\r\n", "0\r\nbad trailer\r\n\r\n"] {
            XCTAssertEqual(decode(Array(broken.utf8), cuts: [], head: head).step, .invalid(.badRequest), broken.debugDescription)
        }
    }

    func testAChunkedBodyThatGrowsPastTheLimitIsRefusedAs413() throws {
        let head = try head("Transfer-Encoding: chunked\r\n")
        let body = Array("4\r\nabcd\r\n4\r\nefgh\r\n0\r\n\r\n".utf8)
        XCTAssertEqual(decode(body, cuts: [], head: head, limit: 7).step, .invalid(.contentTooLarge))
        XCTAssertEqual(decode(body, cuts: [], head: head, limit: 8).data, Array("abcdefgh".utf8))
    }

    func testParseHeadLeavesTheBodyLimitToTheCaller() throws {
        // 2 GiB declared: parse refuses it (413) at the server's limit; parseHead hands the head back.
        let head = try head("Content-Length: 2147483648\r\n")
        XCTAssertEqual(head.bodyLength, 2_147_483_648)
        let parser = RequestParser(limits: RequestLimits())
        let storage = HeaderStorage(limits: RequestLimits())
        var progress = ParseProgress()
        let bytes = Array("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 2147483648\r\n\r\n".utf8)
        let framed = bytes.withUnsafeBytes { parser.frameBody(after: head, $0, progress: &progress, fields: storage.buffer) }
        guard case .invalid(let status) = framed else { return XCTFail("\(framed)") }
        XCTAssertEqual(status, .contentTooLarge, "framed as a held body, the server's limit applies")
    }
}

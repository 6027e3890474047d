// Property tests: thousands of seeded random and mutated requests through the
// parser and through a whole connection, checking what must hold for any input:
// nothing crashes or reads past the bytes it was given, a request reads the same
// however its bytes are split into reads, and a connection answers each complete
// request once, or errors once and then answers nothing more.
// Fuzz/ParserFuzzer.swift checks the parser's half of this under libFuzzer (scripts/fuzz),
// Fuzz/Connection/ the connection's, with timeouts and backpressure (scripts/fuzz --target connection).
import XCTest

@testable import HTTP1
@testable import Server

final class ParserPropertyTests: XCTestCase {
    /// The server's defaults, and limits so small that short inputs reach the 413, 414 and 431 paths.
    static let limitSets = [
        RequestLimits(),
        RequestLimits(maxRequestLineBytes: 48, maxHeaderBytes: 160, maxHeaderCount: 6, maxBodyBytes: 300),
    ]
    static let refusalCodes: Set<Int> = [400, 413, 414, 417, 431, 501, 505]

    // MARK: Parser

    func testParserKeepsItsInvariantsOnRandomBytes() {
        forEachCase(seed: 0x5EED_0000_0001, count: 10_000, makeInput: { $0.randomBytes() }, check: parserViolation)
    }

    func testParserKeepsItsInvariantsOnMutatedRequests() {
        forEachCase(seed: 0x5EED_0000_0002, count: 15_000, makeInput: { $0.mutatedRequests() }, check: parserViolation)
    }

    func testParserAcceptsEveryGeneratedValidRequestWhateverTheSplit() {
        forEachCase(seed: 0x5EED_0000_0003, count: 3000, makeInput: { $0.validRequest() }) { bytes, generator in
            let parser = RequestParser(limits: RequestLimits())
            let whole = bytes.withUnsafeBytes { Self.parseOnce($0, parser) }
            guard case .complete(let head) = whole, head.totalLength == bytes.count else {
                return "a valid request read as \(whole)"
            }
            return self.parserViolation(bytes, &generator)
        }
    }

    /// Found by scripts/fuzz (under the small limits): a request line that has outgrown
    /// its limit before its end arrives is refused at once with 414; arriving whole, the
    /// same bytes make a header block over its limit and get 431. Both refuse and close,
    /// so the statuses may differ; what must not differ is that the request is refused.
    func testRequestLineOverItsLimitIsRefusedWhetherItArrivesWholeOrInTwoReads() {
        // The fuzzer's input as it found it (BEL and NUL bytes in the method, a bare CR), 172 bytes.
        let bytes = Array("GET".utf8) + [UInt8](repeating: 7, count: 58) + [UInt8](repeating: 0, count: 20)
            + [UInt8](repeating: 7, count: 68) + Array(" / HTTP/1.1\rHost: h\r\n\r\n".utf8)
        let parser = RequestParser(limits: Self.limitSets[1])
        bytes.withUnsafeBytes { raw in
            guard case .invalid(let whole) = Self.parseOnce(raw, parser) else { return XCTFail("accepted whole") }
            XCTAssertEqual(whole, .uriTooLong, "the request line is checked first, whole or not")
            let (pieces, refusedEarly) = Self.parseInReads(raw, parser, cuts: [162])
            guard case .invalid(let early) = pieces else { return XCTFail("accepted in two reads") }
            XCTAssertTrue(refusedEarly)
            XCTAssertEqual(early, .uriTooLong)
        }
    }

    // MARK: Connection

    func testConnectionAnswersEachRequestOnceOrErrorsOnceOnRandomBytes() {
        var tally = ConnectionTally()
        forEachCase(seed: 0x5EED_0000_0011, count: 2000, makeInput: { $0.randomBytes() }) { bytes, generator in
            ConnectionRun(limits: Self.limitSets[1]).violation(feeding: bytes, &generator, tally: &tally)
        }
        print("random bytes, \(tally)")
        XCTAssertGreaterThan(tally.errors, 500, "the inputs reach the error path")
    }

    func testConnectionAnswersEachRequestOnceOrErrorsOnceOnMutatedRequests() {
        var tally = ConnectionTally()
        forEachCase(seed: 0x5EED_0000_0012, count: 5000, makeInput: { $0.mutatedRequests() }) { bytes, generator in
            ConnectionRun(limits: Self.limitSets[generator.int(0...1)]).violation(feeding: bytes, &generator, tally: &tally)
        }
        print("mutated requests, \(tally)")
        XCTAssertGreaterThan(tally.handled, 2000, "the inputs reach the handler")
        XCTAssertGreaterThan(tally.errors, 500, "the inputs reach the error path")
        XCTAssertGreaterThan(tally.continues, 50, "the inputs reach 100 Continue")
    }

    // MARK: Running cases

    /// Runs `count` cases, each from its own seed, so one failing case reproduces alone:
    /// `RequestGenerator(seed:)` with the printed seed rebuilds its input and its splits.
    private func forEachCase(seed: UInt64, count: Int, makeInput: (inout RequestGenerator) -> [UInt8],
                             check: ([UInt8], inout RequestGenerator) -> String?) {
        for index in 0..<count {
            let caseSeed = seed &+ UInt64(index) &* 0x1_0000
            var generator = RequestGenerator(seed: caseSeed)
            let bytes = makeInput(&generator)
            if let violation = check(bytes, &generator) {
                let hex = bytes.prefix(400).map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined(separator: " ")
                XCTFail("case \(index), seed 0x\(String(caseSeed, radix: 16)): \(violation)\n"
                        + "input (\(bytes.count) bytes): \(hex)")
                return
            }
        }
    }

    /// Every invariant of one input under both limit sets, or what broke.
    private func parserViolation(_ bytes: [UInt8], _ generator: inout RequestGenerator) -> String? {
        for limits in Self.limitSets {
            let parser = RequestParser(limits: limits)
            let storage = HeaderStorage(limits: limits)
            let cuts = (0..<generator.int(1...3)).map { _ in generator.int(0...bytes.count) }.sorted()
            let violation = bytes.withUnsafeBytes { raw -> String? in
                let whole = Self.parseOnce(raw, parser, into: storage)
                if let broken = resultViolation(whole, raw, parser, storage) { return broken }
                let (pieces, refusedEarly) = Self.parseInReads(raw, parser, cuts: cuts)
                if let broken = sameOutcomeViolation(whole, pieces, refusedEarly: refusedEarly) {
                    return "cut at \(cuts): \(broken)"
                }
                // The request behind a complete one is parsed from where that one ends.
                guard case .complete(let head) = whole, head.totalLength < raw.count else { return nil }
                let rest = UnsafeRawBufferPointer(rebasing: raw[head.totalLength...])
                return resultViolation(Self.parseOnce(rest, parser, into: storage), rest, parser, storage).map { "pipelined: \($0)" }
            }
            if let violation { return "limits \(limits): \(violation)" }
        }
        return nil
    }

    private func resultViolation(_ result: ParseResult, _ bytes: UnsafeRawBufferPointer,
                                 _ parser: RequestParser, _ storage: HeaderStorage) -> String? {
        switch result {
        case .incomplete, .head:
            return nil
        case .invalid(let status):
            return Self.refusalCodes.contains(status.code) ? nil : "refused with \(status)"
        case .complete(let head):
            if let broken = headViolation(head, bytes.count, parser, storage) { return broken }
            guard head.isChunked else { return nil }
            // Decoding in place, as the connection does, on a copy: it must stay inside the
            // message and find the length the scan counted.
            var copy = Array(bytes[..<head.totalLength])
            let decoded = copy.withUnsafeMutableBytes { ChunkedBody.decode($0, from: head.headLength) }
            return decoded == head.bodyLength ? nil : "decoded \(decoded) bytes, scan counted \(head.bodyLength)"
        }
    }

    private func headViolation(_ head: RequestHead, _ count: Int, _ parser: RequestParser, _ storage: HeaderStorage) -> String? {
        if head.totalLength > count { return "totalLength \(head.totalLength) past the \(count) bytes" }
        if head.headLength <= 0 || head.headLength > head.totalLength { return "headLength \(head.headLength)" }
        if head.bodyLength < 0 || head.bodyLength > head.totalLength - head.headLength { return "body past the message" }
        if !head.isChunked && head.totalLength != head.headLength + head.bodyLength { return "Content-Length framing" }
        if head.bodyLength > parser.limits.maxBodyBytes { return "body over the limit" }
        if head.headLength > parser.limits.maxHeaderBytes { return "head over the limit" }
        if head.headerCount > parser.limits.maxHeaderCount { return "\(head.headerCount) headers" }
        let spans = [head.method, head.target] + storage.buffer[0..<head.headerCount].flatMap { [$0.name, $0.value] }
        if let span = spans.first(where: { $0.start < 0 || $0.count < 0 || $0.end > head.headLength }) {
            return "span \(span) outside the head"
        }
        return nil
    }

    /// One read or several, a request is accepted or refused alike (see
    /// testRequestLineOverItsLimitIsRefusedWhetherItArrivesWholeOrInTwoReads for
    /// why a refusal decided before the whole arrived may carry another status).
    private func sameOutcomeViolation(_ whole: ParseResult, _ pieces: ParseResult, refusedEarly: Bool) -> String? {
        switch (whole, pieces) {
        case (.incomplete, .incomplete):
            return nil
        case (.invalid(let one), .invalid(let two)) where one == two || refusedEarly:
            return nil
        case (.complete(let one), .complete(let two))
            where one.totalLength == two.totalLength && one.headLength == two.headLength
            && one.bodyLength == two.bodyLength && one.headerCount == two.headerCount
            && one.keepAlive == two.keepAlive && one.expectsContinue == two.expectsContinue:
            return nil
        default:
            return "\(pieces) in pieces, \(whole) whole"
        }
    }

    // MARK: Parsing in pieces

    /// Parses `bytes` in one piece, into `storage` when the fields are looked at.
    static func parseOnce(_ bytes: UnsafeRawBufferPointer, _ parser: RequestParser, into storage: HeaderStorage? = nil) -> ParseResult {
        var progress = ParseProgress()
        guard let storage else { return parser.parse(bytes, progress: &progress) }
        return parser.parse(bytes, progress: &progress, fields: storage.buffer)
    }

    /// Parses `bytes` as the connection does when they arrive in reads ending at
    /// `cuts` (ascending) and then the rest: the first verdict reached wins, and
    /// `refusedEarly` says it was a refusal reached before all the bytes were in.
    static func parseInReads(_ bytes: UnsafeRawBufferPointer, _ parser: RequestParser,
                             cuts: [Int]) -> (ParseResult, refusedEarly: Bool) {
        var progress = ParseProgress()
        for cut in cuts {
            let result = parser.parse(UnsafeRawBufferPointer(rebasing: bytes[..<cut]), progress: &progress)
            switch result {
            case .incomplete: continue
            case .invalid: return (result, true)
            case .complete, .head: return (result, false)
            }
        }
        return (parser.parse(bytes, progress: &progress), false)
    }
}

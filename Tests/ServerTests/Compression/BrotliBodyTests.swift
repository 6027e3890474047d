// BrotliBody: the same streaming as gzip's (CompressedBody) with libbrotli's
// encoder: every kind of source encodes to a brotli stream that decodes to the
// same bytes, pulled in small pieces, at the default and a middle quality; a
// very compressible body is flushed mid-way (bounded input per pull) and still
// decodes; the encoder's state is freed at the end and when a body is abandoned.
import Foundation
import XCTest
@testable import HTTP1
@testable import Server

final class BrotliBodyTests: XCTestCase {
    private static let sample: [UInt8] = Array((0..<20_000).flatMap { Array("row \($0) of the sample, compressible\n".utf8) })

    func testEverySourceDecodesToItsBytes() throws {
        let path = try GzipBodyTests.writeTemporaryFile(Self.sample)
        defer { unlink(path) }
        let text: StaticString = "a body known at compile time, a body known at compile time, a body known at compile time\n"
        for quality in [2, 6] {
            let sources: [(String, CompressionSource, [UInt8])] = [
                ("bytes", .bytes(Self.sample), Self.sample),
                ("text", .text(text), Array(String(describing: text).utf8)),
                ("file", .file(try XCTUnwrap(FileRegion.open(path))), Self.sample),
                ("stream", .stream(BodyStream(producer: ArrayProducer(Self.sample))), Self.sample),
            ]
            for (name, source, expected) in sources {
                let body = BrotliBody(source: source, supply: BrotliEncoders(quality: quality))
                let compressed = try XCTUnwrap(GzipBodyTests.pullAll(body, pieceSize: 1000), name)
                XCTAssertEqual(Unbrotli.decode(compressed), expected, "\(name) at quality \(quality)")
                if expected.count > 10_000 { XCTAssertLessThan(compressed.count, expected.count / 3, name) }
            }
        }
        XCTAssertEqual(BrotliEncoder.live.load(ordering: .relaxed), 0, "every finished stream freed its state")
    }

    func testAVeryCompressibleBodyIsFlushedMidWayAndStillDecodes() throws {
        let zeros = [UInt8](repeating: 0, count: 4 << 20)
        let body = BrotliBody(source: .bytes(zeros), supply: BrotliEncoders(quality: 2))
        var compressed: [UInt8] = []
        var pulls = 0
        var piece = [UInt8](repeating: 0, count: 16 * 1024)
        while case let count = piece.withUnsafeMutableBytes({ body.produce(into: $0) }), count > 0 {
            compressed += piece[..<count]
            pulls += 1
        }
        XCTAssertGreaterThan(pulls, 1, "handed over after bounded input, not after the whole body")
        XCTAssertEqual(Unbrotli.decode(compressed), zeros)
    }

    func testAnAbandonedBodyFreesItsStateOnRelease() {
        do {
            let body = BrotliBody(source: .bytes(Self.sample), supply: BrotliEncoders(quality: 2))
            var piece = [UInt8](repeating: 0, count: 512)
            XCTAssertGreaterThan(piece.withUnsafeMutableBytes { body.produce(into: $0) }, 0)
            XCTAssertEqual(BrotliEncoder.live.load(ordering: .relaxed), 1, "the state lives while the body is under way")
        }
        XCTAssertEqual(BrotliEncoder.live.load(ordering: .relaxed), 0, "released mid-way: the state was destroyed")
    }
}

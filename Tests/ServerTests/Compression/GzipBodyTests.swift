// GzipBody: every kind of source (bytes, text, a file read with pread, a
// stream) deflates to a gzip stream that decodes to the same bytes, pulled in
// small pieces; zlib's state is freed when the stream ends and when a body is
// abandoned mid-way; a file that shrinks or a stream that fails makes the body
// fail (a negative count) instead of ending as if complete.
import Foundation
import XCTest
@testable import HTTP1
@testable import Server

final class GzipBodyTests: XCTestCase {
    private static let sample: [UInt8] = Array((0..<20_000).flatMap { Array("row \($0) of the sample, compressible\n".utf8) })

    func testEverySourceDecodesToItsBytes() throws {
        let path = try Self.writeTemporaryFile(Self.sample)
        defer { unlink(path) }
        let text: StaticString = "a body known at compile time, a body known at compile time, a body known at compile time\n"
        for level: Int32 in [1, 9] {
            // Made for each level: a body closes its file once it is done.
            let sources: [(String, CompressionSource, [UInt8])] = [
                ("bytes", .bytes(Self.sample), Self.sample),
                ("text", .text(text), Array(String(describing: text).utf8)),
                ("file", .file(try XCTUnwrap(FileRegion.open(path))), Self.sample),
                ("file region", .file(FileRegion(owning: open(path, O_RDONLY), offset: 1000, length: 50_000)),
                 Array(Self.sample[1000..<51_000])),
                ("stream", .stream(BodyStream(producer: ArrayProducer(Self.sample))), Self.sample),
                ("stream of known length", .stream(BodyStream(length: Self.sample.count, producer: ArrayProducer(Self.sample))),
                 Self.sample),
            ]
            for (name, source, expected) in sources {
                let compressed = try XCTUnwrap(Self.pullAll(GzipBody(source: source, level: level), pieceSize: 1000), name)
                XCTAssertEqual(Gunzip.decode(compressed), expected, "\(name) at level \(level)")
                if expected.count > 10_000 { XCTAssertLessThan(compressed.count, expected.count / 3, name) }
            }
        }
        XCTAssertEqual(GzipDeflater.live.load(ordering: .relaxed), 0, "every finished stream freed its zlib state")
    }

    func testAnAbandonedBodyFreesItsZlibStateOnRelease() {
        do {
            let body = GzipBody(source: .bytes(Self.sample), level: 1)
            var piece = [UInt8](repeating: 0, count: 512)
            XCTAssertGreaterThan(piece.withUnsafeMutableBytes { body.produce(into: $0) }, 0)
            XCTAssertEqual(GzipDeflater.live.load(ordering: .relaxed), 1, "the state lives while the body is under way")
        }
        XCTAssertEqual(GzipDeflater.live.load(ordering: .relaxed), 0, "released mid-way: deflateEnd ran")
    }

    func testAPoolReusesOneZlibStateAcrossBodiesFinishedOrAbandoned() throws {
        let pool = DeflaterPool(level: 1)
        for round in 0..<10 {
            let body = GzipBody(source: .bytes(Self.sample), level: 1, pool: pool)
            if round % 2 == 0 {
                XCTAssertEqual(Gunzip.decode(try XCTUnwrap(Self.pullAll(body, pieceSize: 1000))), Self.sample, "round \(round)")
            } else {
                var piece = [UInt8](repeating: 0, count: 512)
                XCTAssertGreaterThan(piece.withUnsafeMutableBytes { body.produce(into: $0) }, 0)  // then abandoned
            }
            XCTAssertEqual(GzipDeflater.live.load(ordering: .relaxed), 1, "round \(round): the one state, reused")
        }
        XCTAssertEqual(pool.idleCount, 1)
        // A small body gets a state sized for it, freed rather than pooled.
        XCTAssertNotNil(Self.pullAll(GzipBody(source: .bytes(Array(Self.sample.prefix(1000))), level: 1, pool: pool), pieceSize: 100))
        XCTAssertEqual(pool.idleCount, 1)
        XCTAssertEqual(GzipDeflater.live.load(ordering: .relaxed), 1)
    }

    func testAPoolKeepsAtMostItsCapacity() {
        let pool = DeflaterPool(level: 1)
        var bodies: [GzipBody] = []
        for _ in 0..<(DeflaterPool.capacity + 3) {
            let body = GzipBody(source: .bytes(Self.sample), level: 1, pool: pool)
            var piece = [UInt8](repeating: 0, count: 512)
            _ = piece.withUnsafeMutableBytes { body.produce(into: $0) }
            bodies.append(body)
        }
        XCTAssertEqual(GzipDeflater.live.load(ordering: .relaxed), DeflaterPool.capacity + 3)
        bodies = []
        XCTAssertEqual(pool.idleCount, DeflaterPool.capacity)
        XCTAssertEqual(GzipDeflater.live.load(ordering: .relaxed), DeflaterPool.capacity, "the rest were freed (deflateEnd)")
    }

    func testABodyNeverPulledMakesNoZlibState() {
        _ = GzipBody(source: .bytes(Self.sample), level: 1)
        XCTAssertEqual(GzipDeflater.live.load(ordering: .relaxed), 0)
    }

    func testAFileShorterThanItsRegionFailsTheBody() throws {
        let path = try Self.writeTemporaryFile(Self.sample)
        defer { unlink(path) }
        let region = FileRegion(owning: open(path, O_RDONLY), offset: 0, length: Self.sample.count + 100_000)
        XCTAssertNil(Self.pullAll(GzipBody(source: .file(region), level: 1), pieceSize: 4096), "the body fails")
    }

    func testAFailingOrShortStreamFailsTheBody() {
        XCTAssertNil(Self.pullAll(GzipBody(source: .stream(BodyStream(producer: FailingProducer())), level: 1), pieceSize: 4096))
        let short = BodyStream(length: Self.sample.count + 1, producer: ArrayProducer(Self.sample))
        XCTAssertNil(Self.pullAll(GzipBody(source: .stream(short), level: 1), pieceSize: 4096))
    }

    func testAVeryCompressibleBodyHandsOverAPieceAfterBoundedInput() {
        let zeros = [UInt8](repeating: 0, count: 8 << 20)
        let body = GzipBody(source: .bytes(zeros), level: 1)
        var piece = [UInt8](repeating: 0, count: 16 * 1024)
        var pulls = 0
        while piece.withUnsafeMutableBytes({ body.produce(into: $0) }) > 0 { pulls += 1 }
        // 8 MiB of zeros deflate to ~8 KiB: one piece would hold it all, but each pull stops once
        // 256 KiB of input is deflated (plus at most one more staging's worth, flushed to get output).
        XCTAssertGreaterThanOrEqual(pulls, (8 << 20) / (GzipBody.inputPerPull + CompressionSource.stagingSize))
    }

    func testAChunkedPieceOfAFailingProducerAppendsNothing() {
        let out = ByteBuffer(capacity: 64)
        XCTAssertNil(ChunkedWriter.appendPiece(into: out, maximum: 64) { _ in -1 })
        XCTAssertTrue(out.isEmpty, "no last chunk: the body is not ended as if complete")
    }

    /// Every piece until the end (0), or nil when the body fails.
    static func pullAll<Supply>(_ body: CompressedBody<Supply>, pieceSize: Int) -> [UInt8]? {
        var compressed: [UInt8] = []
        var piece = [UInt8](repeating: 0, count: pieceSize)
        while true {
            let count = piece.withUnsafeMutableBytes { body.produce(into: $0) }
            if count < 0 { return nil }
            if count == 0 { return compressed }
            compressed += piece[..<count]
        }
    }

    static func writeTemporaryFile(_ bytes: [UInt8]) throws -> String {
        let path = NSTemporaryDirectory() + "gzip-body-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else { throw CocoaError(.fileWriteUnknown) }
        return path
    }
}

final class ArrayProducer: BodyProducer, @unchecked Sendable {
    private let bytes: [UInt8]
    private var position = 0
    init(_ bytes: [UInt8]) { self.bytes = bytes }

    func produce(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        let count = min(buffer.count, bytes.count - position, 777)  // odd pieces, to exercise the staging
        bytes.withUnsafeBytes { buffer.baseAddress!.copyMemory(from: $0.baseAddress! + position, byteCount: count) }
        position += count
        return count
    }
}

private final class FailingProducer: BodyProducer, @unchecked Sendable {
    private var calls = 0
    func produce(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        calls += 1
        if calls > 3 { return -1 }
        buffer.initializeMemory(as: UInt8.self, repeating: 65)
        return buffer.count
    }
}

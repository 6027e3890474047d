// ByteBuffer: appending, consuming, making room by compacting or growing, and
// writing through withWritableSpace as a read(2) into the buffer does.
import XCTest
@testable import HTTP1
@testable import Server

final class ByteBufferTests: XCTestCase {
    func testNewBufferIsEmptyWithAtLeastSixteenBytes() {
        let buffer = ByteBuffer(capacity: 1)
        XCTAssertTrue(buffer.isEmpty)
        XCTAssertEqual(buffer.readableCount, 0)
        XCTAssertEqual(buffer.capacity, 16)
    }

    func testAppendedBytesAreReadableInOrder() {
        let buffer = ByteBuffer(capacity: 64)
        buffer.append("GET ")
        buffer.append(Array("/path".utf8))
        Array(" HTTP/1.1".utf8).withUnsafeBytes { buffer.append($0) }
        XCTAssertEqual(contents(buffer), "GET /path HTTP/1.1")
        XCTAssertFalse(buffer.isEmpty)
    }

    func testAppendingNothingChangesNothing() {
        let buffer = ByteBuffer(capacity: 16)
        buffer.append([])
        buffer.append(UnsafeRawBufferPointer(start: nil, count: 0))
        XCTAssertTrue(buffer.isEmpty)
        XCTAssertEqual(buffer.writerIndex, 0)
    }

    func testConsumeSkipsTheFrontBytes() {
        let buffer = ByteBuffer(capacity: 16)
        buffer.append("abcdef")
        buffer.consume(2)
        XCTAssertEqual(contents(buffer), "cdef")
        XCTAssertEqual(buffer.readerIndex, 2)
    }

    func testConsumingEverythingRewindsToTheStart() {
        let buffer = ByteBuffer(capacity: 16)
        buffer.append("abcdef")
        buffer.consume(4)
        buffer.consume(2)
        XCTAssertTrue(buffer.isEmpty)
        XCTAssertEqual(buffer.readerIndex, 0)
        XCTAssertEqual(buffer.writerIndex, 0)
    }

    func testClearDropsUnreadBytes() {
        let buffer = ByteBuffer(capacity: 16)
        buffer.append("abc")
        buffer.consume(1)
        buffer.clear()
        XCTAssertTrue(buffer.isEmpty)
        XCTAssertEqual(buffer.readerIndex, 0)
    }

    func testAppendCompactsWhenConsumedSpaceIsEnough() {
        let buffer = ByteBuffer(capacity: 16)
        buffer.append("0123456789AB")  // 12 of 16 bytes
        buffer.consume(8)              // 4 unread: "89AB"
        buffer.append("cdefghij")      // 8 more do not fit after the writer, but do after compaction
        XCTAssertEqual(buffer.capacity, 16, "no growth when moving the unread bytes makes room")
        XCTAssertEqual(buffer.readerIndex, 0)
        XCTAssertEqual(contents(buffer), "89ABcdefghij")
    }

    func testAppendGrowsByDoublingAndKeepsUnreadBytes() {
        let buffer = ByteBuffer(capacity: 16)
        buffer.append("0123456789")
        buffer.consume(3)
        let extra = String(repeating: "x", count: 20)
        buffer.append(Array(extra.utf8))  // 7 unread + 20 needs 27: 16 doubles to 32
        XCTAssertEqual(buffer.capacity, 32)
        XCTAssertEqual(buffer.readerIndex, 0)
        XCTAssertEqual(contents(buffer), "3456789" + extra)
    }

    func testAppendGrowsSeveralTimesForALargeRun() {
        let buffer = ByteBuffer(capacity: 16)
        let large = [UInt8](repeating: 7, count: 1000)
        buffer.append(large)
        XCTAssertEqual(buffer.capacity, 1024)
        XCTAssertEqual(bytes(buffer), large)
    }

    func testAppendDecimalWritesPlainDigits() {
        let cases: [(value: Int, text: String)] = [
            (0, "0"), (9, "9"), (10, "10"), (99, "99"), (100, "100"),
            (1_234_567_890, "1234567890"), (Int.max, "9223372036854775807"),
        ]
        for (value, text) in cases {
            let buffer = ByteBuffer(capacity: 16)
            buffer.append("n=")
            buffer.appendDecimal(value)
            XCTAssertEqual(contents(buffer), "n=" + text)
        }
    }

    func testAppendDecimalMakesRoomAtTheEnd() {
        let buffer = ByteBuffer(capacity: 16)
        buffer.append("0123456789ABCDE")  // one byte left: 19 digits must grow the buffer
        buffer.appendDecimal(Int.max)
        XCTAssertEqual(contents(buffer), "0123456789ABCDE9223372036854775807")
    }

    func testWithWritableSpaceAddsTheBytesItsBodyWrote() {
        let buffer = ByteBuffer(capacity: 16)
        buffer.append("ab")
        let written = buffer.withWritableSpace(minimum: 4) { space in
            XCTAssertGreaterThanOrEqual(space.count, 4)
            XCTAssertEqual(space.count, buffer.capacity - buffer.writerIndex, "offers all the free space")
            for (offset, byte) in "cdef".utf8.enumerated() { space[offset] = byte }
            return 3  // only what was really "read" counts
        }
        XCTAssertEqual(written, 3)
        XCTAssertEqual(contents(buffer), "abcde")
    }

    func testWritableSpaceCompactsOrGrowsToTheMinimum() {
        let buffer = ByteBuffer(capacity: 16)
        buffer.append("0123456789AB")
        buffer.consume(10)
        XCTAssertGreaterThanOrEqual(offered(buffer, minimum: 12), 12)
        XCTAssertEqual(buffer.capacity, 16, "compacting freed the consumed bytes")
        XCTAssertEqual(contents(buffer), "AB")
        XCTAssertGreaterThanOrEqual(offered(buffer, minimum: 100), 100)
        XCTAssertEqual(buffer.capacity, 128)
        XCTAssertEqual(contents(buffer), "AB")
    }

    func testWritableSpaceOffersNoMoreThanItsLimitInAGrownBuffer() {
        let buffer = ByteBuffer(capacity: 16)
        buffer.append([UInt8](repeating: 1, count: 1000))
        buffer.consume(1000)
        XCTAssertEqual(buffer.capacity, 1024, "grown for the spike")
        XCTAssertEqual(offered(buffer, minimum: 4, atMost: 64), 64)
        XCTAssertEqual(offered(buffer, minimum: 4), 1024, "without a limit, all the free space")
    }

    func testShrinkGivesBackAGrownBufferAndKeepsTheUnreadBytes() {
        let buffer = ByteBuffer(capacity: 16)
        buffer.append([UInt8](repeating: 1, count: 1000))
        buffer.consume(995)
        buffer.append("abc")
        buffer.shrink(toCapacity: 64)
        XCTAssertEqual(buffer.capacity, 64)
        XCTAssertEqual(buffer.readerIndex, 0)
        XCTAssertEqual(bytes(buffer), [1, 1, 1, 1, 1] + Array("abc".utf8))
        buffer.append("more")
        XCTAssertEqual(contents(buffer).suffix(7), "abcmore", "still usable after shrinking")
    }

    func testShrinkNeverDropsUnreadBytesNorGrows() {
        let buffer = ByteBuffer(capacity: 16)
        buffer.append([UInt8](repeating: 2, count: 100))  // capacity 128
        buffer.shrink(toCapacity: 32)
        XCTAssertEqual(buffer.capacity, 100, "as small as the unread bytes allow")
        XCTAssertEqual(bytes(buffer), [UInt8](repeating: 2, count: 100))
        buffer.shrink(toCapacity: 4096)
        XCTAssertEqual(buffer.capacity, 100, "a larger target is no reason to reallocate")
    }

    func testCopyingInitHoldsItsOwnCopy() {
        var source = Array("request bytes".utf8)
        let buffer = source.withUnsafeBytes { ByteBuffer(copying: $0, minimumCapacity: 100) }
        source[0] = UInt8(ascii: "X")
        XCTAssertEqual(contents(buffer), "request bytes")
        XCTAssertEqual(buffer.capacity, 100)
    }

    func testCopyingInitFitsTheBytesWhenLargerThanTheMinimum() {
        let source = [UInt8](repeating: 1, count: 40)
        let buffer = source.withUnsafeBytes { ByteBuffer(copying: $0) }
        XCTAssertEqual(bytes(buffer), source)
        XCTAssertGreaterThanOrEqual(buffer.capacity, 40)
    }

    // Taking the buffer as an argument keeps it alive while its bytes are copied out.
    private func contents(_ buffer: ByteBuffer) -> String {
        buffer.withReadableBytes { String(decoding: $0, as: UTF8.self) }
    }

    private func bytes(_ buffer: ByteBuffer) -> [UInt8] { buffer.withReadableBytes { Array($0) } }

    /// How much free space `withWritableSpace` offers; nothing is written.
    private func offered(_ buffer: ByteBuffer, minimum: Int, atMost limit: Int = .max) -> Int {
        var count = 0
        buffer.withWritableSpace(minimum: minimum, atMost: limit) { space in
            count = space.count
            return 0
        }
        return count
    }
}

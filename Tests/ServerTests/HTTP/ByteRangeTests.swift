// Range planning (RFC 9110 §14.1.2, §14.2) for a 100-byte representation: each
// form, clamping, unsatisfiable and malformed fields, and nginx's rules for
// overlapping and excessive ranges.
@testable import HTTP1
import XCTest

final class ByteRangeTests: XCTestCase {
    func testRangeFieldsArePlannedAsNginxDoesExceptThatMalformedOnesAreIgnored() {
        func part(_ start: Int, _ end: Int) -> ByteRange { ByteRange(start: start, end: end) }
        let table: [(String, RangePlan, UInt)] = [
            ("bytes=0-9", .single(part(0, 10)), #line),
            ("bytes=10-", .single(part(10, 100)), #line),
            ("bytes=-10", .single(part(90, 100)), #line),
            ("bytes=-1000", .single(part(0, 100)), #line),  // a longer suffix is the whole, as a part
            ("bytes=90-1000", .single(part(90, 100)), #line),  // past the end: clamped
            ("bytes=99-99", .single(part(99, 100)), #line),
            ("bytes=0-0", .single(part(0, 1)), #line),
            ("BYTES=0-9", .single(part(0, 10)), #line),  // the unit ignores case
            ("bytes= 0-9 ", .single(part(0, 10)), #line),
            ("bytes=0-9,200-300", .single(part(0, 10)), #line),  // unsatisfiable ones dropped
            ("bytes=0-9,20-29", .multiple([part(0, 10), part(20, 30)]), #line),
            ("bytes=20-29, 0-9", .multiple([part(20, 30), part(0, 10)]), #line),  // in the order asked
            ("bytes=0-9,5-14", .multiple([part(0, 10), part(5, 15)]), #line),  // overlapping, not coalesced
            ("bytes=0-9,,-5", .multiple([part(0, 10), part(95, 100)]), #line),  // empty list elements
            ("bytes=0-,0-", .whole, #line),  // parts adding up to more than the whole
            ("bytes=0-50,50-99", .whole, #line),
            ("bytes=100-", .unsatisfiable, #line),
            ("bytes=100-200", .unsatisfiable, #line),
            ("bytes=-0", .unsatisfiable, #line),
            ("bytes=100-,200-", .unsatisfiable, #line),
            ("bytes=99999999999999999999999-", .unsatisfiable, #line),
            ("bytes=0-99999999999999999999999", .single(part(0, 100)), #line),
            ("bytes=9-0", .whole, #line),  // last before first: invalid (§14.1.1), ignored
            ("bytes=abc", .whole, #line),
            ("bytes=", .whole, #line),
            ("bytes=-", .whole, #line),
            ("bytes=0-9;x", .whole, #line),
            ("bytes=0-9,x", .whole, #line),
            ("bytes 0-9", .whole, #line),
            ("items=0-9", .whole, #line),  // another unit: ignored
            ("bytes=" + (0..<65).map { "\($0)-\($0)" }.joined(separator: ","), .whole, #line),  // more than 64 parts
        ]
        for (field, expected, line) in table {
            var text = field
            let plan = text.withUTF8 { ByteRanges.plan(UnsafeRawBufferPointer($0), length: 100) }
            XCTAssertEqual(plan, expected, field, line: line)
        }
    }

    func testAnEmptyRepresentationIsSentWhole() {
        var text = "bytes=0-"
        XCTAssertEqual(text.withUTF8 { ByteRanges.plan(UnsafeRawBufferPointer($0), length: 0) }, .whole)
    }

    func testSixtyFourPartsAreStillAMultipartAnswer() {
        var text = "bytes=" + (0..<64).map { "\($0)-\($0)" }.joined(separator: ",")
        guard case .multiple(let parts) = text.withUTF8({ ByteRanges.plan(UnsafeRawBufferPointer($0), length: 100) }) else {
            return XCTFail("expected a multipart plan")
        }
        XCTAssertEqual(parts.count, 64)
    }
}

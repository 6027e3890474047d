// Preconditions (RFC 9110 §13.2.2) and If-Range (§13.1.5) as pure functions:
// a table of request fields against one representation.
@testable import HTTP1
import XCTest

final class PreconditionTests: XCTestCase {
    let tag = "\"5f5e1000-64-2a\""
    let modified = 1_600_000_000  // Sun, 13 Sep 2020 12:26:40 GMT
    let atModified = "Sun, 13 Sep 2020 12:26:40 GMT"
    let before = "Sun, 13 Sep 2020 12:26:39 GMT"
    let after = "Sun, 13 Sep 2020 12:26:41 GMT"

    struct Case {
        var fields: [String: String]
        var method = "GET"
        var expected: PreconditionOutcome
        var line: UInt = #line
    }

    func testPreconditionsAreEvaluatedInTheOrderOfRFC9110() {
        let weak = "W/" + tag
        let table: [Case] = [
            Case(fields: [:], expected: .proceed),
            Case(fields: ["if-match": tag], expected: .proceed),
            Case(fields: ["if-match": "*"], expected: .proceed),
            Case(fields: ["if-match": "\"x\", \(tag)"], expected: .proceed),
            Case(fields: ["if-match": "\"x\""], expected: .preconditionFailed),
            Case(fields: ["if-match": weak], expected: .preconditionFailed),  // strong comparison
            Case(fields: ["if-match": "\"x\" \(tag)"], expected: .preconditionFailed),  // no comma: not a list of two
            Case(fields: ["if-match": "\"x\", *"], expected: .preconditionFailed),  // "*" only stands alone
            Case(fields: ["if-unmodified-since": atModified], expected: .proceed),
            Case(fields: ["if-unmodified-since": after], expected: .proceed),
            Case(fields: ["if-unmodified-since": before], expected: .preconditionFailed),
            Case(fields: ["if-unmodified-since": "not a date"], expected: .proceed),
            Case(fields: ["if-match": tag, "if-unmodified-since": before], expected: .proceed),  // step 2 skipped
            Case(fields: ["if-none-match": tag], expected: .notModified),
            Case(fields: ["if-none-match": weak], expected: .notModified),  // weak comparison
            Case(fields: ["if-none-match": "*"], expected: .notModified),
            Case(fields: ["if-none-match": " \"a\" ,, \(weak) "], expected: .notModified),
            Case(fields: ["if-none-match": "\"a\", \"b\""], expected: .proceed),
            Case(fields: ["if-none-match": tag], method: "HEAD", expected: .notModified),
            Case(fields: ["if-none-match": tag], method: "DELETE", expected: .preconditionFailed),
            Case(fields: ["if-none-match": "\"a\"", "if-modified-since": after], expected: .proceed),  // IMS ignored
            Case(fields: ["if-none-match": tag, "if-modified-since": before], expected: .notModified),
            Case(fields: ["if-modified-since": atModified], expected: .notModified),
            Case(fields: ["if-modified-since": after], expected: .notModified),
            Case(fields: ["if-modified-since": before], expected: .proceed),
            Case(fields: ["if-modified-since": "garbage"], expected: .proceed),
            Case(fields: ["if-modified-since": atModified], method: "POST", expected: .proceed),
            Case(fields: ["if-match": "\"x\"", "if-none-match": tag], expected: .preconditionFailed),  // If-Match first
            Case(fields: ["if-unmodified-since": before, "if-none-match": tag], expected: .preconditionFailed),
        ]
        for entry in table {
            let outcome = withFields(entry.fields) { fields in
                withTag { Preconditions.evaluate(fields, entityTag: $0, modified: modified,
                                                 isGetOrHead: entry.method == "GET" || entry.method == "HEAD") }
            }
            XCTAssertEqual(outcome, entry.expected, "\(entry.fields) \(entry.method)", line: entry.line)
        }
    }

    func testIfRangeNeedsTheStrongTagOrExactlyTheLastModifiedDate() {
        let table: [(String?, Bool)] = [
            (nil, true), (tag, true), ("W/" + tag, false), ("\"other\"", false), (atModified, true),
            (after, false), (before, false), ("garbage", false), ("\(tag), \"x\"", false),
        ]
        for (ifRange, expected) in table {
            let applies = withFields(ifRange.map { ["if-range": $0] } ?? [:]) { fields in
                withTag { Preconditions.rangeApplies(fields, entityTag: $0, modified: modified) }
            }
            XCTAssertEqual(applies, expected, ifRange ?? "none")
        }
    }

    func testValidatorsAreFormattedFromTheFileFacts() {
        let validators = Validators(RepresentationFacts(size: 100, modified: modified, inode: 42, device: 1))
        XCTAssertEqual(validators.entityTag, tag)
        XCTAssertEqual(validators.lastModified, atModified)
        let other = Validators(RepresentationFacts(size: 100, modified: modified, inode: 43, device: 1))
        XCTAssertNotEqual(other.entityTag, validators.entityTag)
    }

    private func withTag<T>(_ body: (UnsafeRawBufferPointer) -> T) -> T {
        var tag = tag
        return tag.withUTF8 { body(UnsafeRawBufferPointer($0)) }
    }
}

/// Runs `body` with ConditionalFields holding `fields` (lowercase names), pointing into copies that live for the call.
func withFields<T>(_ fields: [String: String], _ body: (ConditionalFields) -> T) -> T {
    let storage = fields.mapValues { value -> UnsafeMutableRawBufferPointer in
        let bytes = UnsafeMutableRawBufferPointer.allocate(byteCount: max(value.utf8.count, 1), alignment: 1)
        _ = bytes.initializeMemory(as: UInt8.self, from: value.utf8)
        return UnsafeMutableRawBufferPointer(rebasing: bytes[0..<value.utf8.count])
    }
    defer { storage.values.forEach { $0.deallocate() } }
    var conditional = ConditionalFields()
    let view = storage.mapValues { UnsafeRawBufferPointer($0) }
    conditional.ifMatch = view["if-match"]
    conditional.ifNoneMatch = view["if-none-match"]
    conditional.ifModifiedSince = view["if-modified-since"]
    conditional.ifUnmodifiedSince = view["if-unmodified-since"]
    conditional.ifRange = view["if-range"]
    conditional.range = view["range"]
    return body(conditional)
}

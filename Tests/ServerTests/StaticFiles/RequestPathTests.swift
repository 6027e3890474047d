// RequestPathTests: the table of request paths and what they normalise to, or
// why they are refused: decoding once, dot segments (RFC 3986 §5.2.4), `//`,
// and the refusals (NUL, encoded `/`, `\`, overlong UTF-8, `..` above the root).
import StaticFiles
import XCTest

final class RequestPathTests: XCTestCase {
    private typealias Refusal = RequestPath.Refusal

    /// (path as sent, segments, trailing slash) for paths that are accepted.
    private static let accepted: [(String, [String], Bool)] = [
        ("/", [], true),
        ("/a.txt", ["a.txt"], false),
        ("/a/b/c.css", ["a", "b", "c.css"], false),
        ("/dir/", ["dir"], true),
        ("//a///b", ["a", "b"], false),
        ("/a/./b", ["a", "b"], false),
        ("/a/../b", ["b"], false),
        ("/a/b/..", ["a"], true),
        ("/a/b/.", ["a", "b"], true),
        ("/a/%2e%2e/b", ["b"], false),
        ("/a/%2E/b", ["a", "b"], false),
        ("/%252e%252e/x", ["%2e%2e", "x"], false),
        ("/%2541", ["%41"], false),
        ("/sp%20ace.txt", ["sp ace.txt"], false),
        ("/caf%C3%A9", ["café"], false),
        ("/%F0%9F%98%80", ["😀"], false),
        ("/..a/b..", ["..a", "b.."], false),
        ("/a/...", ["a", "..."], false),
        ("/a.b/c-d_e~f/", ["a.b", "c-d_e~f"], true),
        ("/x/.well-known", ["x", ".well-known"], false),
        ("/%41", ["A"], false),
        ("/a.", ["a."], false),
    ]

    private static let refused: [(String, Refusal)] = [
        ("/..", .aboveRoot),
        ("/../secret", .aboveRoot),
        ("/a/../../secret", .aboveRoot),
        ("/%2e%2e/secret", .aboveRoot),
        ("/%2E%2e/%2e%2E/secret", .aboveRoot),
        ("/a%2fb", .encodedSlash),
        ("/a%2F..%2F..%2Fsecret", .encodedSlash),
        ("/a\\b", .backslash),
        ("/a%5cb", .backslash),
        ("/..%5c..%5csecret", .backslash),
        ("/a%00.txt", .nul),
        ("/a%", .malformedEscape),
        ("/a%4", .malformedEscape),
        ("/a%zz", .malformedEscape),
        ("/%c0%ae%c0%ae/secret", .invalidUTF8),
        ("/%c0%af", .invalidUTF8),
        ("/%e0%80%ae", .invalidUTF8),
        ("/%ed%a0%80", .invalidUTF8),
        ("/%f4%90%80%80", .invalidUTF8),
        ("/%ff", .invalidUTF8),
        ("/%c3", .invalidUTF8),
    ]

    func testAcceptedPathsNormaliseToTheirSegments() throws {
        for (path, segments, slash) in Self.accepted {
            let parsed = try Array(path.utf8).withUnsafeBytes { bytes in try RequestPath(decoding: bytes) }
            XCTAssertEqual(parsed.segments, segments, path)
            XCTAssertEqual(parsed.trailingSlash, slash, path)
        }
    }

    func testRefusedPathsSayWhy() {
        for (path, reason) in Self.refused {
            XCTAssertThrowsError(try Array(path.utf8).withUnsafeBytes { bytes in try RequestPath(decoding: bytes) }, path) { error in
                XCTAssertEqual(error as? Refusal, reason, path)
            }
        }
    }

    func testDotSegmentsAreFoundAfterDecoding() throws {
        for (path, hidden) in [("/.env", true), ("/a/.git/config", true), ("/%2egit/x", true), ("/a.b/c", false),
                               ("/a/b/..", false)] {
            let parsed = try Array(path.utf8).withUnsafeBytes { bytes in try RequestPath(decoding: bytes) }
            XCTAssertEqual(parsed.hasDotSegment, hidden, path)
        }
    }
}

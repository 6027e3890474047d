// RootDirectoryTests: no name opens anything outside the root, through
// openat2(RESOLVE_BENEATH) and through the openat(O_NOFOLLOW) walk used when
// the kernel has no openat2; links that stay inside are followed by both.
import Glibc
import StaticFiles
import XCTest

final class RootDirectoryTests: XCTestCase {
    private var tree: StaticTree!

    override func setUpWithError() throws {
        tree = try StaticTree()
        try tree.file("a.txt", "inside\n")
        try tree.file("sub/deep/b.txt", "deep\n")
        try tree.link("in", to: "a.txt")
        try tree.link("sub/up", to: "../a.txt")
        try tree.link("sub/deeplink", to: "deep")
        try tree.link("sub/chain", to: "up")
        try tree.link("out", to: "../secret.txt")
        try tree.link("outdir", to: "../outside")
        try tree.link("absolute", to: tree.secretPath)
        try tree.link("sub/far", to: "../../secret.txt")
        try tree.link("loop", to: "loop")
    }

    override func tearDown() { tree = nil }

    private func read(_ name: String, openat2: Bool) throws -> String {
        let root = try RootDirectory(path: tree.root, usesOpenat2: openat2)
        let file = try root.open(name)
        var bytes = [UInt8](repeating: 0, count: 256)
        let count = pread(file.fd, &bytes, bytes.count, 0)
        return String(decoding: bytes[0..<max(0, count)], as: UTF8.self)
    }

    func testLinksInsideTheRootAreFollowedByBothWays() throws {
        for openat2 in [true, false] {
            XCTAssertEqual(try read("in", openat2: openat2), "inside\n", "openat2 \(openat2)")
            XCTAssertEqual(try read("sub/up", openat2: openat2), "inside\n", "openat2 \(openat2)")
            XCTAssertEqual(try read("sub/chain", openat2: openat2), "inside\n", "openat2 \(openat2)")
            XCTAssertEqual(try read("sub/deeplink/b.txt", openat2: openat2), "deep\n", "openat2 \(openat2)")
        }
    }

    func testLinksLeavingTheRootAreForbiddenByBothWays() {
        for openat2 in [true, false] {
            for name in ["out", "outdir/secret.txt", "absolute", "sub/far", "loop"] {
                XCTAssertThrowsError(try read(name, openat2: openat2), "\(name), openat2 \(openat2)") { error in
                    XCTAssertEqual(error as? RootDirectory.Failure, .forbidden, "\(name), openat2 \(openat2)")
                }
            }
        }
    }

    func testMissingNamesAreMissingByBothWays() {
        for openat2 in [true, false] {
            for name in ["nothing", "a.txt/x", "sub/nothing/b"] {
                XCTAssertThrowsError(try read(name, openat2: openat2), "\(name), openat2 \(openat2)") { error in
                    XCTAssertEqual(error as? RootDirectory.Failure, .missing, "\(name), openat2 \(openat2)")
                }
            }
        }
    }
}

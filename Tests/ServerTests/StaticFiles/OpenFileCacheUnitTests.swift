// OpenFileCacheUnitTests: the cache's rules on a clock the test moves: an entry
// is answered as a hit while valid; after the interval an unchanged file keeps
// its open descriptor, a changed one is reopened, a deleted one becomes missing;
// the least recently used entry goes first; an evicted file's descriptor stays
// open while a response still holds it.
import Foundation
import Glibc
import HTTP1
import StaticFiles
import XCTest

final class OpenFileCacheUnitTests: XCTestCase {
    private var tree: StaticTree!
    private var now = 0

    override func setUpWithError() throws { tree = try StaticTree() }
    override func tearDown() { tree = nil }

    private func cache(capacity: Int = 10, contentBudget: Int = 0) throws -> OpenFileCache {
        OpenFileCache(root: try RootDirectory(path: tree.root), contentTypes: ContentTypes(), capacity: capacity,
                      validMilliseconds: 1000, contentBudget: contentBudget, clock: { [unowned self] in self.now })
    }

    private func file(_ cache: OpenFileCache, _ name: String) throws -> (OpenedFile?, Bool) {
        let (found, hit) = try cache.lookup(name)
        if case .file(let opened) = found { return (opened, hit) }
        return (nil, hit)
    }

    func testEntriesAreHitsWhileValidAndLookedUpAgainAfter() throws {
        try tree.file("a.txt", "one\n")
        let cache = try cache()
        let (first, firstHit) = try file(cache, "a.txt")
        XCTAssertFalse(firstHit)
        now = 999
        let (second, secondHit) = try file(cache, "a.txt")
        XCTAssertTrue(secondHit)
        XCTAssertTrue(first === second)
        now = 1000
        let (third, thirdHit) = try file(cache, "a.txt")
        XCTAssertFalse(thirdHit, "looked up again")
        XCTAssertTrue(first === third, "unchanged: the open file is kept")
        try tree.file("a.txt", "changed in place\n")
        now = 2000
        let (fourth, _) = try file(cache, "a.txt")
        XCTAssertFalse(first === fourth, "changed: reopened")
        XCTAssertEqual(fourth?.size, 17)
        tree.remove("a.txt")
        now = 3000
        guard case (.missing(.missing), false) = try cache.lookup("a.txt") else { return XCTFail("deleted: missing") }
    }

    func testTheLeastRecentlyUsedEntryGoesFirst() throws {
        for name in ["a", "b", "c", "d"] { try tree.file(name, name) }
        let cache = try cache(capacity: 3)
        for name in ["a", "b", "c"] { _ = try cache.lookup(name) }
        _ = try cache.lookup("a")  // b is now the oldest
        _ = try cache.lookup("d")
        XCTAssertEqual(cache.count, 3)
        XCTAssertTrue(try cache.lookup("a").hit)
        XCTAssertTrue(try cache.lookup("c").hit)
        XCTAssertTrue(try cache.lookup("d").hit)
        XCTAssertFalse(try cache.lookup("b").hit, "evicted")
    }

    func testAnEvictedFileStaysOpenWhileARegionHoldsIt() throws {
        try tree.file("a", "a")
        try tree.file("b", "b")
        let cache = try cache(capacity: 1)
        var region: FileRegion? = try XCTUnwrap(try file(cache, "a").0).wholeRegion()
        let path = tree.root + "/a"
        XCTAssertTrue(Self.selfHasOpen(path))
        _ = try cache.lookup("b")  // evicts a: the cache lets go
        XCTAssertTrue(Self.selfHasOpen(path), "the region's hold keeps it open")
        XCTAssertEqual(region?.length, 1)
        region = nil
        XCTAssertFalse(Self.selfHasOpen(path), "closed with its last holder")
    }

    private static func selfHasOpen(_ path: String) -> Bool {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        return entries.contains { (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\($0)")) == path }
    }

    func testWithoutCapacityNothingIsKept() throws {
        try tree.file("a", "a")
        let cache = try cache(capacity: 0)
        XCTAssertFalse(try cache.lookup("a").hit)
        XCTAssertFalse(try cache.lookup("a").hit)
        XCTAssertEqual(cache.count, 0)
    }

    // MARK: Small files' bytes

    func testSmallFilesBytesAreKeptWithinTheBudgetAndNoneWithout() throws {
        try tree.file("a", "1234")
        try tree.file("b", "5678")
        try tree.file("c", "90ab")
        try tree.file("large", String(repeating: "x", count: OpenFileCache.largestFileInMemory + 1))
        try tree.file("empty", "")
        let cache = try cache(contentBudget: 10)
        XCTAssertEqual(try file(cache, "a").0?.contents, Array("1234".utf8))
        XCTAssertEqual(try file(cache, "b").0?.contents, Array("5678".utf8))
        XCTAssertNil(try file(cache, "c").0?.contents, "8 + 4 bytes would pass the budget of 10")
        XCTAssertNil(try file(cache, "empty").0?.contents)
        XCTAssertEqual(cache.bytesInMemory, 8)
        let roomy = try self.cache(contentBudget: 1 << 20)
        XCTAssertNil(try file(roomy, "large").0?.contents, "over the largest file kept")
        XCTAssertNil(try file(self.cache(), "a").0?.contents, "no budget: no bytes")
        XCTAssertNil(try file(self.cache(capacity: 0, contentBudget: 10), "a").0?.contents, "no cache: no bytes")
    }

    func testKeptBytesFollowTheFileAndGoWithTheirEntry() throws {
        try tree.file("a", "one\n")
        try tree.file("b", "two\n")
        let cache = try cache(capacity: 2, contentBudget: 1 << 20)
        let region = try XCTUnwrap(try file(cache, "a").0).wholeRegion()
        XCTAssertEqual(region.withBytesInMemory { Array($0) }, Array("one\n".utf8), "the body's bytes, from memory")
        try tree.file("a", "changed\n")
        XCTAssertEqual(try file(cache, "a").0?.contents, Array("one\n".utf8), "trusted until revalidation")
        now = 1000
        XCTAssertEqual(try file(cache, "a").0?.contents, Array("changed\n".utf8), "revalidated: the new bytes")
        XCTAssertEqual(region.withBytesInMemory { Array($0) }, Array("one\n".utf8), "a body already answered keeps its own")
        XCTAssertEqual(cache.bytesInMemory, 8)
        _ = try cache.lookup("b")
        XCTAssertEqual(cache.bytesInMemory, 12)
        try tree.file("c", "three\n")
        _ = try cache.lookup("c")  // evicts a
        XCTAssertEqual(cache.bytesInMemory, 10)
        tree.remove("b")
        now = 2000
        _ = try cache.lookup("b")
        XCTAssertEqual(cache.bytesInMemory, 6, "a deleted file's bytes go with it")
    }

    func testARangeOfKeptBytesIsServedFromMemory() throws {
        try tree.file("a", "0123456789")
        let cache = try cache(contentBudget: 100)
        let opened = try XCTUnwrap(try file(cache, "a").0)
        let part = FileRegion(sharing: opened.file, offset: 2, length: 5, contents: opened.contents)
        XCTAssertEqual(part.withBytesInMemory { Array($0) }, Array("23456".utf8))
        let beyond = FileRegion(sharing: opened.file, offset: 8, length: 5, contents: opened.contents)
        XCTAssertNil(beyond.withBytesInMemory { Array($0) }, "bytes the copy does not have are read from the file")
    }
}

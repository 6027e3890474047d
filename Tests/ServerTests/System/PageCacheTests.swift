// PageCacheTests: the page-cache probe (preadv2 with RWF_NOWAIT) and the
// read that fills the cache, on a real file: a page just read is cached, the
// end of the file counts as cached (nothing there to wait for), an evicted page
// is missing until a load brings it back, and a load stops at the end of file.
import Foundation
import Glibc
@testable import ServerSystem
import XCTest

final class PageCacheTests: XCTestCase {
    func testAProbeSeesEvictedPagesMissingUntilALoadBringsThemBack() throws {
        let path = NSTemporaryDirectory() + "page-cache-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        defer { unlink(path) }
        let size = 1 << 20
        let writer = open(path, O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0o600)
        XCTAssertGreaterThanOrEqual(writer, 0)
        var bytes = [UInt8](repeating: 0, count: size)
        for index in bytes.indices { bytes[index] = UInt8(truncatingIfNeeded: index &* 31) }
        XCTAssertEqual(bytes.withUnsafeBytes { write(writer, $0.baseAddress, size) }, size)
        XCTAssertEqual(fdatasync(writer), 0)
        close(writer)
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        XCTAssertGreaterThanOrEqual(fd, 0)
        defer { close(fd) }
        XCTAssertEqual(PageCache.residency(of: fd, at: size), .cached, "past the end there is nothing to wait for")
        XCTAssertEqual(posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED), 0)
        let evicted = PageCache.residency(of: fd, at: size / 2)
        guard evicted == .missing else {
            throw XCTSkip("POSIX_FADV_DONTNEED left the page cached here (\(evicted)): eviction is not observable")
        }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 4096)
        defer { buffer.deallocate() }
        XCTAssertEqual(try PageCache.load(fd, at: size / 2, into: buffer), size / 2, "the load stops at the end of the file")
        XCTAssertEqual(PageCache.residency(of: fd, at: size / 2), .cached)
        XCTAssertEqual(PageCache.residency(of: fd, at: size - 1), .cached)
        XCTAssertEqual(buffer.load(fromByteOffset: 1, as: UInt8.self), UInt8(truncatingIfNeeded: (size / 2 + 1) &* 31))
    }
}

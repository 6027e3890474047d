// FileDescriptor, the one owner of a descriptor, and the owners built on it:
// each closes exactly once, so a second close never reaches a number the
// kernel has handed out again in between (as it does at once: the lowest free).
import Glibc
import XCTest

@testable import ServerSystem
@testable import Server

final class FileDescriptorTests: XCTestCase {
    func testCloseReleasesTheDescriptor() throws {
        let descriptor = FileDescriptor(try openDevNull())
        XCTAssertTrue(descriptor.isOpen)
        descriptor.close()
        XCTAssertFalse(descriptor.isOpen)
        XCTAssertEqual(fcntl(descriptor.raw, F_GETFD), -1, "fd \(descriptor.raw) is closed")
    }

    func testSecondCloseLeavesADescriptorReusedInBetweenOpen() throws {
        let descriptor = FileDescriptor(try openDevNull())
        descriptor.close()
        try assertSecondCloseSparesReusedNumber(descriptor.raw) { descriptor.close() }
    }

    func testSocketClosesItsDescriptorOnce() throws {
        let socket = Socket(fd: try openDevNull())
        socket.close()
        try assertSecondCloseSparesReusedNumber(socket.fd) { socket.close() }
    }

    func testSignalDescriptorClosesOnce() throws {
        let signals = try SignalDescriptor(SignalSet([SIGUSR2]))
        signals.close()
        try assertSecondCloseSparesReusedNumber(signals.fd) { signals.close() }
    }

    func testWakePipeClosesBothEndsOnce() throws {
        let pipe = try WakePipe()
        let readEnd = pipe.readEnd
        pipe.close()
        XCTAssertEqual(fcntl(readEnd, F_GETFD), -1, "the read end is closed")
        try assertSecondCloseSparesReusedNumber(readEnd) { pipe.close() }
    }

    func testEpollClosesItsDescriptorWhenReleased() throws {
        var epoll: Epoll? = try Epoll(capacity: 4)
        let fd = try XCTUnwrap(epoll?.fd)
        XCTAssertNotEqual(fcntl(fd, F_GETFD), -1)
        epoll = nil
        XCTAssertEqual(fcntl(fd, F_GETFD), -1, "the epoll instance's fd \(fd) is closed with it")
    }

    // MARK: Helpers

    private func openDevNull() throws -> Int32 {
        try blockingSystemCall("open(/dev/null)", { open("/dev/null", O_RDONLY | O_CLOEXEC) })
    }

    /// Takes the number `closed` gave up (the kernel hands out the lowest free one),
    /// runs the second close, and checks that it left the new file open.
    private func assertSecondCloseSparesReusedNumber(_ closed: Int32, secondClose: () -> Void,
                                                     file: StaticString = #filePath, line: UInt = #line) throws {
        let reused = dup(0)
        defer { _ = close(reused) }
        try XCTSkipIf(reused != closed, "the kernel handed out \(reused) instead of the freed \(closed)")
        secondClose()
        XCTAssertNotEqual(fcntl(reused, F_GETFD), -1, "the second close left fd \(reused) alone", file: file, line: line)
    }
}

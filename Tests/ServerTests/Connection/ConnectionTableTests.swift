// ConnectionTable tokens: (generation << 32 | fd), so an event queued for a
// closed connection is dropped even after the kernel hands the fd out again.
import CEventPoll
import Glibc
import XCTest

@testable import ServerSystem
@testable import Server

final class ConnectionTableTests: XCTestCase {
    private var openDescriptors: [Int32] = []

    override func tearDown() {
        for fd in openDescriptors { close(fd) }
        openDescriptors = []
    }

    /// A real descriptor (the table indexes by fd), closed in tearDown.
    private func openDescriptor() throws -> Int32 {
        let fd = open("/dev/null", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw SystemError(call: "open(/dev/null)", errno: errno) }
        openDescriptors.append(fd)
        return fd
    }

    func testTokenCarriesTheDescriptorInItsLowBits() throws {
        var table = ConnectionTable<Socket>()
        let fd = try openDescriptor()
        let connection = table.insert(Socket(fd: fd))

        XCTAssertEqual(UInt32(truncatingIfNeeded: connection.token), UInt32(fd))
        XCTAssertNotEqual(connection.token >> 32, 0, "generation 0 is never issued")
        XCTAssertNotEqual(connection.token >> 32, UInt64(UInt32.max), "the top generation is reserved")
        XCTAssertTrue(table.connection(for: connection.token) === connection)
        XCTAssertEqual(table.count, 1)
    }

    func testDistinctDescriptorsResolveToTheirOwnConnections() throws {
        var table = ConnectionTable<Socket>()
        let first = table.insert(Socket(fd: try openDescriptor()))
        let second = table.insert(Socket(fd: try openDescriptor()))

        XCTAssertTrue(table.connection(for: first.token) === first)
        XCTAssertTrue(table.connection(for: second.token) === second)
        XCTAssertEqual(table.count, 2)
        XCTAssertEqual(Set(table.all.map { $0.transport.fd }), [first.transport.fd, second.transport.fd])
    }

    func testStaleTokenIsDroppedAfterDescriptorIsReused() throws {
        var table = ConnectionTable<Socket>()
        let fd = try openDescriptor()
        let old = table.insert(Socket(fd: fd))
        table.remove(old)
        XCTAssertNil(table.connection(for: old.token), "a removed connection no longer resolves")
        XCTAssertEqual(table.count, 0)

        // Inserting the same fd again stands for the kernel reusing it for a new connection.
        let new = table.insert(Socket(fd: fd))
        XCTAssertEqual(new.transport.fd, old.transport.fd)
        XCTAssertNotEqual(new.token, old.token)
        XCTAssertNil(table.connection(for: old.token), "an event queued for the old connection is dropped")
        XCTAssertTrue(table.connection(for: new.token) === new)
    }

    func testDescriptorReusedByTheKernelGetsANewGeneration() throws {
        var table = ConnectionTable<Socket>()
        let fd = try openDescriptor()
        let old = table.insert(Socket(fd: fd))
        table.remove(old)
        // The kernel handing the freed number to a new file, made certain: dup2(2) closes the
        // old file and installs another at the same number in one step, so no other thread
        // of the test process can take the number in between.
        let fresh = try openDescriptor()
        XCTAssertEqual(dup2(fresh, fd), fd, "dup2(\(fresh), \(fd)): errno \(errno)")
        let new = table.insert(Socket(fd: fd))
        XCTAssertNil(table.connection(for: old.token))
        XCTAssertTrue(table.connection(for: new.token) === new)
    }

    func testReservedTokensNeverResolveToAConnection() throws {
        var table = ConnectionTable<Socket>()
        // The reserved tokens' low bits are 0 and 1, so occupy those slots too. The table
        // does not own its sockets, and stdin/stdout are never closed here.
        let stdinConnection = table.insert(Socket(fd: 0))
        let stdoutConnection = table.insert(Socket(fd: 1))
        _ = table.insert(Socket(fd: try openDescriptor()))

        XCTAssertNil(table.connection(for: ReservedToken.listener))
        XCTAssertNil(table.connection(for: ReservedToken.signals))
        XCTAssertTrue(table.connection(for: stdinConnection.token) === stdinConnection)
        XCTAssertTrue(table.connection(for: stdoutConnection.token) === stdoutConnection)
    }

    func testTokensOutsideTheTableDoNotResolve() throws {
        var table = ConnectionTable<Socket>()
        let connection = table.insert(Socket(fd: try openDescriptor()))

        XCTAssertNil(table.connection(for: connection.token & 0xFFFF_FFFF), "generation 0 was never issued")
        XCTAssertNil(table.connection(for: connection.token + (1 << 32)), "a future generation")
        XCTAssertNil(table.connection(for: UInt64(1) << 32 | 1_000_000), "an fd beyond the table")
    }
}

// systemCall and SystemError: how errno becomes a value, a retry or a thrown
// error, checked with a real failing setsockopt and with closures that set errno.
import CEventPoll
import Glibc
import XCTest

@testable import ServerSystem
@testable import Server

final class SystemErrorTests: XCTestCase {
    /// An option level no protocol handles: TCP passes it on to IP, which answers ENOPROTOOPT.
    private static let unknownLevel: Int32 = 12345

    private func openTCPSocket() throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SystemError(call: "socket", errno: errno) }
        return fd
    }

    func testRealSetsockoptFailureThrowsErrorNamingCallAndErrno() throws {
        let fd = try openTCPSocket()
        defer { close(fd) }
        var on: Int32 = 1
        let length = socklen_t(MemoryLayout<Int32>.size)

        do {
            _ = try systemCall("setsockopt(fd \(fd))", { setsockopt(fd, Self.unknownLevel, 1, &on, length) })
            XCTFail("setsockopt with an unknown level succeeded")
        } catch {
            XCTAssertEqual(error.errno, ENOPROTOOPT)
            XCTAssertEqual(error.call, "setsockopt(fd \(fd))")
            XCTAssertEqual(error.reason, "Protocol not available")
            XCTAssertEqual(error.description, "setsockopt(fd \(fd)): Protocol not available (errno \(ENOPROTOOPT))")
        }
    }

    func testDescriptionReadsCallColonReasonAndErrnoNumber() {
        let error = SystemError(call: "accept4(fd 5)", errno: EMFILE)
        XCTAssertEqual(error.description, "accept4(fd 5): Too many open files (errno 24)")
        XCTAssertEqual("\(error)", error.description)
    }

    func testSuccessfulCallReturnsItsResult() throws {
        let result = try systemCall("always 7", { Int32(7) })
        XCTAssertEqual(result, 7)
    }

    func testWouldBlockIsReturnedAsNil() throws {
        let result = try systemCall("would block", { () -> Int32 in
            Glibc.errno = EAGAIN
            return -1
        })
        XCTAssertNil(result)
    }

    func testReadOnEmptyNonBlockingSocketIsNilNotAnError() throws {
        var pair: [Int32] = [-1, -1]
        let type = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue)
        guard socketpair(AF_UNIX, type, 0, &pair) == 0 else { throw SystemError(call: "socketpair", errno: errno) }
        defer {
            close(pair[0])
            close(pair[1])
        }
        var byte: UInt8 = 0
        let fd = pair[0]
        XCTAssertNil(try systemCall("read(fd \(fd))", { read(fd, &byte, 1) }))
    }

    func testInterruptedCallIsRetried() throws {
        var attempts = 0
        let result = try systemCall("interrupted once", { () -> Int32 in
            attempts += 1
            if attempts == 1 {
                Glibc.errno = EINTR
                return -1
            }
            return 42
        })
        XCTAssertEqual(result, 42)
        XCTAssertEqual(attempts, 2)
    }

    func testCallTextIsBuiltOnlyOnFailure() throws {
        var built = 0
        func describe() -> String {
            built += 1
            return "described"
        }
        _ = try systemCall(describe(), { Int32(0) })
        XCTAssertEqual(built, 0, "the success path must not format the call text")
    }

    func testBlockingCallTurnsWouldBlockIntoThrownError() {
        do {
            _ = try blockingSystemCall("read(fd 9)", { () -> Int32 in
                Glibc.errno = EAGAIN
                return -1
            })
            XCTFail("EAGAIN on a blocking call did not throw")
        } catch {
            XCTAssertEqual(error, SystemError(call: "read(fd 9)", errno: EAGAIN))
        }
    }

    func testBlockingCallPassesOtherFailuresThrough() {
        do {
            _ = try blockingSystemCall("open(missing)", { () -> Int32 in
                Glibc.errno = ENOENT
                return -1
            })
            XCTFail("ENOENT did not throw")
        } catch {
            XCTAssertEqual(error.errno, ENOENT)
            XCTAssertEqual(error.description, "open(missing): No such file or directory (errno 2)")
        }
    }

    func testInterruptedCallIsReturnedAsNilWhenTheCallerRechecksItself() throws {
        var attempts = 0
        let result = try systemCall("interrupted wait", retryOnInterrupt: false, { () -> Int32 in
            attempts += 1
            Glibc.errno = EINTR
            return -1
        })
        XCTAssertNil(result, "EINTR comes back like EAGAIN: nothing happened, look again")
        XCTAssertEqual(attempts, 1, "not retried")
    }

    func testFailureValueOtherThanMinusOneReadsErrnoToo() {
        let failed = UnsafeMutableRawPointer(bitPattern: -1)
        do {
            _ = try systemCall("mmap(test)", failedIf: { $0 == failed }, { () -> UnsafeMutableRawPointer? in
                Glibc.errno = ENOMEM
                return failed
            })
            XCTFail("a MAP_FAILED-like result did not throw")
        } catch {
            XCTAssertEqual(error, SystemError(call: "mmap(test)", errno: ENOMEM))
        }
    }
}

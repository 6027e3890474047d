// Socket against a real non-blocking AF_UNIX socketpair: every outcome a
// reactor relies on (would block, bytes, peer gone) comes from the kernel.
import CEventPoll
import Glibc
import XCTest

@testable import ServerSystem
@testable import Server

final class SocketTests: XCTestCase {
    private var local: Int32 = -1
    private var peer: Int32 = -1

    override func setUpWithError() throws {
        var pair: [Int32] = [-1, -1]
        let type = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue)
        guard socketpair(AF_UNIX, type, 0, &pair) == 0 else { throw SystemError(call: "socketpair", errno: errno) }
        local = pair[0]
        peer = pair[1]
    }

    override func tearDown() {
        closePeer()
        if local >= 0 { close(local) }
        local = -1
    }

    private func closePeer() {
        if peer >= 0 { close(peer) }
        peer = -1
    }

    private func readLocal(into storage: inout [UInt8]) throws -> ReadOutcome {
        try storage.withUnsafeMutableBytes { buffer throws(SystemError) in
            try Socket(fd: local).read(into: buffer)
        }
    }

    private func writeLocal(_ bytes: [UInt8]) throws -> WriteOutcome {
        try bytes.withUnsafeBytes { buffer throws(SystemError) in
            try Socket(fd: local).write(buffer)
        }
    }

    func testReadOnEmptySocketWouldBlock() throws {
        var storage = [UInt8](repeating: 0, count: 64)
        XCTAssertEqual(try readLocal(into: &storage), .wouldBlock)
    }

    func testReadReturnsTheBytesThePeerWrote() throws {
        let message = Array("hello".utf8)
        XCTAssertEqual(write(peer, message, message.count), message.count)

        var storage = [UInt8](repeating: 0, count: 64)
        XCTAssertEqual(try readLocal(into: &storage), .bytes(message.count))
        XCTAssertEqual(Array(storage.prefix(message.count)), message)
        XCTAssertEqual(try readLocal(into: &storage), .wouldBlock, "everything was read the first time")
    }

    func testReadReportsClosedAfterPeerCloses() throws {
        closePeer()
        var storage = [UInt8](repeating: 0, count: 64)
        XCTAssertEqual(try readLocal(into: &storage), .closed)
    }

    func testReadDeliversPendingBytesBeforeReportingClosed() throws {
        let message = Array("last words".utf8)
        XCTAssertEqual(write(peer, message, message.count), message.count)
        closePeer()

        var storage = [UInt8](repeating: 0, count: 64)
        XCTAssertEqual(try readLocal(into: &storage), .bytes(message.count))
        XCTAssertEqual(try readLocal(into: &storage), .closed)
    }

    func testWriteAcceptsBytesAndPeerReceivesThem() throws {
        let message = Array("response".utf8)
        XCTAssertEqual(try writeLocal(message), .wrote(message.count))

        var received = [UInt8](repeating: 0, count: 64)
        XCTAssertEqual(read(peer, &received, received.count), message.count)
        XCTAssertEqual(Array(received.prefix(message.count)), message)
    }

    func testWriteWouldBlockOnceSendBufferIsFull() throws {
        let chunk = [UInt8](repeating: 0x61, count: 64 * 1024)
        var total = 0
        var outcome = WriteOutcome.wrote(0)
        // A default AF_UNIX send buffer holds a few hundred KiB; 1000 chunks is far beyond it.
        for _ in 0..<1000 {
            outcome = try writeLocal(chunk)
            guard case .wrote(let count) = outcome else { break }
            XCTAssertGreaterThan(count, 0)
            total += count
        }
        XCTAssertEqual(outcome, .wouldBlock, "send buffer never filled after \(total) bytes")
        XCTAssertGreaterThan(total, 0)
    }

    func testWriteReportsClosedAfterPeerCloses() throws {
        // Without this the kernel's SIGPIPE would end the test process instead of EPIPE.
        SignalDisposition.ignoreBrokenPipe()
        closePeer()
        XCTAssertEqual(try writeLocal(Array("too late".utf8)), .closed)
    }

    func testShutdownWriteMakesPeerReadEndOfFile() throws {
        let message = Array("bye".utf8)
        XCTAssertEqual(try writeLocal(message), .wrote(message.count))
        Socket(fd: local).shutdownWrite()

        var received = [UInt8](repeating: 0, count: 64)
        XCTAssertEqual(read(peer, &received, received.count), message.count, "bytes sent before shutdown arrive")
        XCTAssertEqual(read(peer, &received, received.count), 0, "then end of file")
    }
}

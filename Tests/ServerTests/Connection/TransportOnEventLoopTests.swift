// The transport seam through the real event loop, with a second transport that
// behaves as TLS does where epoll cannot see it: it takes everything the socket
// holds into a buffer of its own (as OpenSSL reads whole records) and hands it
// out a few bytes per read, and its first read can wait for the socket to be
// writable (as SSL_read does with SSL_ERROR_WANT_WRITE during a key update).
// The loop runs on a thread of its own over a loopback listener, its accepted
// sockets wrapped in that transport, and the client is a plain TCP client.
import Foundation
import Glibc
import Logging
import TestSupport
import XCTest

@testable import HTTP1
@testable import ServerSystem
@testable import Server

/// What a record-buffering transport holds, in a class because transport calls do not mutate the transport.
private final class HeldRecords {
    var bytes: [UInt8] = []
    var sawEnd = false
    /// Whether the next read must first wait for the socket to be writable.
    var waitsForWritable: Bool
    /// Reads answered `.wouldBlock` while waiting for writable.
    var waits = 0

    init(waitsForWritable: Bool) {
        self.waitsForWritable = waitsForWritable
    }
}

/// Reads the whole socket queue into its own buffer and returns at most `piece` bytes per read.
private struct RecordBufferingTransport: Transport, ~Copyable {
    let socket: Socket
    let piece: Int
    let held: HeldRecords

    var fd: Int32 { socket.fd }
    var hasBufferedInput: Bool { !held.bytes.isEmpty }
    var awaitedReadiness: Readiness? { held.waitsForWritable ? .writable : nil }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws(SystemError) -> ReadOutcome {
        if held.bytes.isEmpty { try takeSocketQueue() }
        if held.waitsForWritable {
            // As SSL_read with a record of its own to send first: the bytes are off the socket,
            // but none is handed out until a call finds the socket writable (never the first).
            guard held.waits > 0 && socketIsWritable else {
                held.waits += 1
                return .wouldBlock
            }
            held.waitsForWritable = false
        }
        guard !held.bytes.isEmpty else { return held.sawEnd ? .closed : .wouldBlock }
        let count = min(piece, buffer.count, held.bytes.count)
        held.bytes.withUnsafeBytes { buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0.prefix(count))) }
        held.bytes.removeFirst(count)
        return .bytes(count)
    }

    private func takeSocketQueue() throws(SystemError) {
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 1)
        defer { chunk.deallocate() }
        while !held.sawEnd {
            switch try socket.read(into: chunk) {
            case .bytes(let count): held.bytes += chunk[..<count]
            case .closed: held.sawEnd = true
            case .wouldBlock: return
            }
        }
    }

    private var socketIsWritable: Bool {
        var entry = pollfd(fd: socket.fd, events: Int16(POLLOUT), revents: 0)
        return poll(&entry, 1, 0) == 1 && entry.revents & Int16(POLLOUT) != 0
    }

    func write(_ bytes: UnsafeRawBufferPointer, moreFollows: Bool) throws(SystemError) -> WriteOutcome {
        try socket.write(bytes, moreFollows: moreFollows)
    }

    func sendFile(from file: Int32, offset: inout Int, count: Int) throws(SystemError) -> WriteOutcome {
        try socket.sendFile(from: file, offset: &offset, count: count)
    }

    func shutdownWrite() { socket.shutdownWrite() }
    func resetOnClose() { socket.resetOnClose() }
    func close() { socket.close() }
}

/// Answers every request with its path.
private struct PathEcho: HTTPHandler {
    func respond(to request: Request, with response: inout Response) {
        response.body = .bytes(Array("[\(request.path.string)]".utf8))
    }
}

/// A real EventLoop on a thread of its own, over a listener on 127.0.0.1, serving HTTP through
/// record-buffering transports. Stopped by SIGTERM directed at that thread, which blocks it and
/// reads it from the loop's signalfd, as a worker does.
private final class LoopThread: @unchecked Sendable {
    private(set) var port = 0
    private var thread: pthread_t?
    private var failure: String?
    private let started = DispatchSemaphore(value: 0)
    private let finished = DispatchSemaphore(value: 0)
    /// Every transport's held bytes, so the test can see what the loop left in them.
    private(set) var held: [HeldRecords] = []
    private let lock = NSLock()

    init(mode: TriggerMode, piece: Int, firstReadWaitsForWritable: Bool) throws {
        Thread.detachNewThread { [self] in
            run(mode: mode, piece: piece, firstReadWaitsForWritable: firstReadWaitsForWritable)
            finished.signal()
        }
        guard started.wait(timeout: .now() + 30) == .success else { throw LaunchError("the loop thread did not start") }
        if let failure { throw LaunchError(failure) }
    }

    private func run(mode: TriggerMode, piece: Int, firstReadWaitsForWritable: Bool) {
        do {
            // Blocked before anything can send it: the signal then waits in the signalfd.
            var terminate = sigset_t()
            sigemptyset(&terminate)
            sigaddset(&terminate, SIGTERM)
            pthread_sigmask(SIG_BLOCK, &terminate, nil)
            thread = pthread_self()
            let listener = try Listener.open(host: "127.0.0.1", port: 0, backlog: 16, reusePort: false)
            let signals = try SignalDescriptor(SignalSet([SIGTERM]))
            defer {
                signals.close()
                listener.close()
            }
            port = listener.port
            let dateCache = DateCache()
            let driver = ConnectionDriver(limits: RequestLimits(), writer: ResponseWriter(dateCache: dateCache, serverName: "t"),
                                          handler: PathEcho(), logger: Logger(label: "test"))
            let settings = EventLoopSettings(mode: mode, timeouts: TimeoutDurations(), maxConnections: 16)
            let loop = try EventLoop(listeners: ListenerSet(listener), sharedListener: false, signals: signals, settings: settings,
                                     driver: driver, dateCache: dateCache, logger: Logger(label: "test")) { socket, _ in
                let held = HeldRecords(waitsForWritable: firstReadWaitsForWritable)
                self.lock.withLock { self.held.append(held) }
                return RecordBufferingTransport(socket: socket, piece: piece, held: held)
            }
            started.signal()
            try loop.run()
        } catch {
            failure = "\(error)"
            started.signal()
        }
    }

    var transports: [HeldRecords] { lock.withLock { held } }

    func stop() {
        if let thread { pthread_kill(thread, SIGTERM) }
        XCTAssertEqual(finished.wait(timeout: .now() + 30), .success, "the loop stops on SIGTERM")
    }
}

final class TransportOnEventLoopTests: XCTestCase {
    /// `count` pipelined GETs in one send; returns the paths answered, in order (a read that
    /// times out, after 5 s, ends it: a request left in a transport's buffer is never answered).
    private func pipelined(_ count: Int, to port: Int) throws -> [String] {
        let client = try TestClient(port: port)
        try client.send((0..<count).map { "GET /r\($0) HTTP/1.1\r\nHost: t\r\n\r\n" }.joined())
        var answered: [String] = []
        for _ in 0..<count {
            guard let response = try? client.readResponse() else { break }
            answered.append(response.body)
        }
        return answered
    }

    private static func paths(_ count: Int) -> [String] { (0..<count).map { "[/r\($0)]" } }

    /// The socket is empty after the transport's first read, so neither an edge nor a level
    /// ever reports the rest: the driver must read on while the transport says it holds input.
    func testInputHeldByTheTransportIsAnsweredWithoutAnotherEpollEvent() throws {
        for mode in [TriggerMode.edge, .level] {
            let loop = try LoopThread(mode: mode, piece: 50, firstReadWaitsForWritable: false)
            defer { loop.stop() }
            // 40 requests of 31 bytes, handed out 50 at a time: more reads than one turn allows, so the
            // connection also yields and is served again on the next turn, still without an event.
            let answered = try pipelined(40, to: loop.port)
            XCTAssertEqual(answered, Self.paths(40), "\(mode): every request the transport held is answered, in order")
            XCTAssertTrue(loop.transports.allSatisfy { $0.bytes.isEmpty }, "\(mode): nothing left in the transport")
        }
    }

    /// A read that waits for the socket to be writable (SSL_read's SSL_ERROR_WANT_WRITE): the loop
    /// waits for writability instead of readability, and brings that event back to the read.
    /// The bytes are off the socket by then, so waiting for readability would wait forever.
    func testAReadWaitingForWritabilityIsResumedWhenTheSocketIsWritable() throws {
        for mode in [TriggerMode.level, .edge] {
            let loop = try LoopThread(mode: mode, piece: 1 << 16, firstReadWaitsForWritable: true)
            defer { loop.stop() }
            let answered = try pipelined(3, to: loop.port)
            XCTAssertEqual(answered, Self.paths(3), "\(mode): the requests are answered once the socket is writable")
            XCTAssertGreaterThan(loop.transports.first?.waits ?? 0, 0, "\(mode): the first read did wait")
        }
    }

    /// The fold itself, for every phase: a transport's own wait replaces the phase's reading or
    /// writing, and a connection waiting for its handler (no I/O) still waits for neither.
    func testATransportsOwnWaitReplacesThePhasesReadOrWriteInterest() {
        XCTAssertEqual(Interest.read.folding(nil), .read)
        XCTAssertEqual(Interest.write.folding(nil), .write)
        XCTAssertEqual(Interest.read.folding(.writable), .write)
        XCTAssertEqual(Interest.write.folding(.readable), .read)
        XCTAssertEqual(Interest.read.folding(.readable), .read)
        XCTAssertEqual(Interest.none.folding(.writable), .none)
        XCTAssertEqual(Interest.none.folding(.readable), .none)
    }
}

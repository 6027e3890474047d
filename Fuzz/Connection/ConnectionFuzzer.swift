// ConnectionFuzzer: the libFuzzer entry point for a whole connection (built by
// `scripts/fuzz --target connection` with the server's sources, not by SwiftPM).
// An input is a script (FuzzScript): how the server is set up, then what the
// client does: write some of the payload, read some of the responses or not,
// let the clock run, half-close, abandon the connection, or have the worker
// begin a graceful drain. A real ConnectionDriver serves a real socketpair
// through a real epoll set, as the event loop would (FuzzLoop), checking its
// buffers after every call (FuzzBounds). At the end the client either reads
// everything and hangs up, or goes silent and leaves it to the timeouts;
// either way the connection must end. Then what the client read and what the
// handler saw are checked (FuzzVerdict). A broken invariant traps, which
// libFuzzer reports as a crash with the input that caused it.
import Glibc
import HTTP1
import ServerSystem
import Logging

/// Shared by every run, as a worker shares them between its connections.
private let fuzzLogger = Logger(label: "connection-fuzzer")
nonisolated(unsafe) private let fuzzWriter = ResponseWriter(dateCache: DateCache(), serverName: "fuzz")
/// The access log is on, so every request's line is formatted as well; the lines go to /dev/null.
nonisolated(unsafe) private let fuzzAccessLog: AccessLog? = {
    do { return try AccessLog.open(.file("/dev/null"), logger: fuzzLogger) } catch { fatalError("\(error)") }
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConnection(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    FuzzRun(FuzzScript(UnsafeRawBufferPointer(start: data, count: size))).run()
    return 0
}

/// One input's run: the script's actions, then the ending, then the verdict.
private final class FuzzRun {
    private let script: FuzzScript
    private let handler: FuzzHandler
    private let loop: FuzzLoop
    private let client: FuzzClient
    private let connection: Connection<Socket>
    private var written = 0
    private var accepted = false
    /// Rounds of the client reading in the ending that may move no byte before the
    /// connection counts as stuck (the first may find the socket empty).
    private static let stalledRoundsAllowed = 3

    init(_ script: FuzzScript) {
        self.script = script
        var fds: [Int32] = [0, 0]
        fuzzAssert(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0, &fds) == 0,
                   "socketpair: errno \(errno)")
        let setup = script.setup
        if setup.smallSocketBuffers { FuzzClient.shrinkBuffers(fds[0]) }
        client = FuzzClient(fd: fds[1], smallBuffers: setup.smallSocketBuffers)
        handler = FuzzHandler(responseSizes: setup.responseSizes)
        let clock = FuzzClock()
        let driver = ConnectionDriver(limits: setup.limits, writer: fuzzWriter, handler: handler, logger: fuzzLogger,
                                      accessLog: fuzzAccessLog, bodyRate: setup.bodyRate, clock: { clock.now })
        let bounds = FuzzBounds(limits: setup.limits, largestResponseBody: setup.responseSizes.max()!)
        loop = FuzzLoop(driver: driver, mode: setup.mode, clock: clock, bounds: bounds)
        connection = Connection(socket: Socket(fd: fds[0]), token: 1 << 32 | UInt64(fds[0]))
    }

    func run() {
        if fuzzTracing { print("\(script.setup)\n\(script.actions)") }
        for action in script.actions { perform(action) }
        if !accepted { accept() }
        if script.setup.endsSilent { endSilently() } else { endByHangingUp() }
        // The server's end is closed: whatever it sent is still in the socket, then its end.
        let abandoned = client.closed
        client.read(upTo: .max)
        fuzzAssert(abandoned || client.sawEnd, "the client cannot read the end of a connection the server closed")
        client.close()
        FuzzVerdict.check(FuzzOutcome(sent: client.sent, received: client.received, calls: handler.calls,
                                      limits: script.setup.limits, readToEnd: !abandoned && !loop.droppedOutput,
                                      interrupted: loop.interrupted || abandoned))
    }

    /// Writes before the connection is accepted arrive with it (the listener defers accept
    /// until the first bytes); any other action comes after the accept.
    private func perform(_ action: FuzzAction) {
        if !accepted && !action.isWrite { accept() }
        switch action {
        case .write(let count):
            let payload = script.payload
            let end = written + min(count, payload.count - written)
            written += client.write(UnsafeRawBufferPointer(rebasing: payload[written..<end]))
        case .read(let count): client.read(upTo: count)
        case .readAll: client.read(upTo: .max)
        case .advanceClock(let milliseconds): loop.advanceClock(by: milliseconds)
        case .halfClose: client.halfClose()
        case .beginDrain: loop.beginDrain()
        case .abandon: client.close()
        }
        if accepted { loop.settle() }
    }

    private func accept() {
        accepted = true
        loop.accept(connection)
        loop.settle()
    }

    /// The client reads everything and hangs up: with no clock moving, the connection must
    /// end, each round moving some bytes until it does (a round that moves none is a stall).
    private func endByHangingUp() {
        var stalled = 0
        while loop.isOpen {
            let before = client.received.count
            client.read(upTo: .max)
            client.halfClose()
            loop.settle()
            stalled = client.received.count == before ? stalled + 1 : 0
            fuzzAssert(stalled <= Self.stalledRoundsAllowed, "still open after the client read everything and hung up")
        }
    }

    /// The client neither reads nor hangs up: every state the connection can be in has a
    /// deadline, so the timeouts alone must end it, one step past the longest each time.
    private func endSilently() {
        let durations = TimeoutDurations()
        let longest = Timeout.allCases.map(durations.milliseconds).max()!
        for _ in 0..<Timeout.allCases.count where loop.isOpen {
            loop.advanceClock(by: longest + 1)
        }
        fuzzAssert(!loop.isOpen, "a client that went silent outlasted every timeout")
    }
}

// FuzzClient and FuzzHandler: the two ends of a fuzzed connection that are not
// the server. The client is the far end of the socketpair, non-blocking, and
// keeps everything it managed to send and everything it read. The handler
// answers every request with a body that starts with the call's number, so
// the client can tell whether responses come back in the order they were made.
import Glibc
import HTTP1
import ServerSystem

final class FuzzClient {
    let fd: Int32
    /// The bytes the socket took, in order: the model of what the server was sent.
    private(set) var sent: [UInt8] = []
    /// Every byte read back.
    private(set) var received: [UInt8] = []
    /// shutdown(SHUT_WR) was called: nothing more is sent.
    private(set) var halfClosed = false
    /// The socket was closed early (a reset for the server) or at the end.
    private(set) var closed = false
    /// The server's end of stream, or its reset, was read: nothing more will come.
    private(set) var sawEnd = false
    /// A send failed because the server had gone: nothing more is sent.
    private(set) var writeFailed = false

    init(fd: Int32, smallBuffers: Bool) {
        self.fd = fd
        if smallBuffers { Self.shrinkBuffers(fd) }
    }

    /// The smallest send and receive buffers the kernel allows (it doubles the value and
    /// raises it to its minimum, socket(7)).
    static func shrinkBuffers(_ fd: Int32) {
        var size: Int32 = 1
        for option in [SO_SNDBUF, SO_RCVBUF] {
            fuzzAssert(setsockopt(fd, SOL_SOCKET, option, &size, socklen_t(MemoryLayout<Int32>.size)) == 0,
                       "setsockopt(fd \(fd), \(option)): errno \(errno)")
        }
    }

    /// Sends up to `count` bytes from `bytes`; returns how many the socket took.
    func write(_ bytes: UnsafeRawBufferPointer) -> Int {
        guard !halfClosed && !closed && !writeFailed, let base = bytes.baseAddress, bytes.count > 0 else { return 0 }
        let count = Glibc.send(fd, base, bytes.count, Int32(MSG_NOSIGNAL))
        guard count > 0 else {
            fuzzAssert(errno == EAGAIN || errno == EPIPE || errno == ECONNRESET, "client send: errno \(errno)")
            if errno != EAGAIN { writeFailed = true }
            return 0
        }
        sent += UnsafeRawBufferPointer(rebasing: bytes[..<count])
        return count
    }

    /// Reads up to `limit` bytes, or until the socket has nothing more now.
    func read(upTo limit: Int) {
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        var left = limit
        while left > 0 && !closed && !sawEnd {
            let count = Glibc.read(fd, &chunk, min(left, chunk.count))
            if count > 0 {
                received += chunk[0..<count]
                left -= count
                continue
            }
            if count == 0 || errno == ECONNRESET { sawEnd = true }
            fuzzAssert(count == 0 || errno == EAGAIN || errno == ECONNRESET, "client read: errno \(errno)")
            return
        }
    }

    func halfClose() {
        guard !closed && !halfClosed else { return }
        halfClosed = true
        _ = Glibc.shutdown(fd, Int32(SHUT_WR))
    }

    func close() {
        guard !closed else { return }
        closed = true
        _ = Glibc.close(fd)
    }
}

/// What the handler saw of one request, and what it answered.
struct FuzzCall: Equatable {
    var body: [UInt8]
    var isHead: Bool
    /// The request asked the handler to close the connection (an `X-Close` field).
    var closes: Bool
    /// The length of the body the handler answered with (the Content-Length sent, even for HEAD).
    var responseBytes = 0

    init(_ request: Request) {
        body = Array(request.body.bytes)
        isHead = request.method == "HEAD"
        closes = request.header("x-close") != nil
    }
}

final class FuzzHandler: HTTPHandler {
    private let sizes: [Int]
    private(set) var calls: [FuzzCall] = []

    init(responseSizes: [Int]) {
        sizes = responseSizes
    }

    /// Body: the call's number in decimal, a line feed, then padding up to this call's size.
    func respond(to request: Request, with response: inout Response) {
        var call = FuzzCall(request)
        var body = Array("\(calls.count)\n".utf8)
        let size = sizes[calls.count % sizes.count]
        if body.count < size { body += repeatElement(UInt8(ascii: "x"), count: size - body.count) }
        call.responseBytes = body.count
        calls.append(call)
        response.body = .bytes(body)
        response.closeConnection = call.closes
    }
}

/// Like `precondition`, but its message survives `-O`, so a crash report says which invariant broke.
func fuzzAssert(_ condition: Bool, _ message: @autoclosure () -> String) {
    if !condition { fatalError(message()) }
}

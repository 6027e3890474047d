// AccessLog: a worker's access log. Lines collect in a buffer that is written
// when it fills, at least once a second (the event loop asks `flushDeadline`
// and wakes for it), on SIGUSR1 before the file is reopened, and on exit. Every
// worker opens the file itself with O_APPEND, so whole-buffer writes from
// several workers never overwrite each other.
import Glibc
import HTTP1
import Logging
import ServerSystem

package final class AccessLog {
    /// A full buffer is written at once; below this, writes wait for the next second.
    static let flushThreshold = 32 * 1024
    /// The longest a line waits in the buffer (ms).
    static let flushInterval = 1000

    private let destination: AccessLogDestination
    private var file: FileDescriptor
    private let buffer = ByteBuffer(capacity: 64 * 1024)
    private let time = LocalTimeCache()
    private let logger: Logger
    /// Whether each line ends with the request's id (`--request-id`): the response's `X-Request-Id`.
    let logsRequestIDs: Bool
    /// Client addresses by descriptor, noted at accept.
    let peers = PeerAddresses()
    /// When the oldest unwritten line was noticed by the event loop (monotonic ms).
    private var pendingSince: Int?
    /// A write failed; the next failure is not logged again until a write succeeds.
    private var failing = false

    /// The log for `destination`, or nil when it is off.
    package static func open(_ destination: AccessLogDestination, requestIDs: Bool = false,
                             logger: Logger) throws(SystemError) -> AccessLog? {
        switch destination {
        case .off: return nil
        case .standardOutput:
            return AccessLog(destination, file: FileDescriptor(STDOUT_FILENO), requestIDs: requestIDs, logger: logger)
        case .file(let path):
            return AccessLog(destination, file: try AccessLogDestination.openFile(path), requestIDs: requestIDs, logger: logger)
        }
    }

    private init(_ destination: AccessLogDestination, file: consuming FileDescriptor, requestIDs: Bool, logger: Logger) {
        self.destination = destination
        self.file = file
        self.logsRequestIDs = requestIDs
        self.logger = logger
    }

    /// The id to end `response`'s line with: its `X-Request-Id` field (as `RequestIDs` adds it), when ids are logged.
    func requestID(of response: Response) -> String? {
        guard logsRequestIDs else { return nil }
        return response.headers.first { Self.isRequestIDName($0.name) }?.value
    }

    private static func isRequestIDName(_ name: StaticString) -> Bool {
        UnsafeRawBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount).elementsEqual("X-Request-Id".utf8)
    }

    // MARK: Lines

    /// Logs a request the handler answered with `status` and a body of `bodyBytes`.
    func record(_ request: Request, on fd: Int32, status: Int, bodyBytes: Int, requestID: String? = nil) {
        // A forwarded header's client, when a trusted proxy named one; else the connection's.
        let address = request.clientEntry.map(ClientAddressEntry.address) ?? peers.address(of: fd)
        AccessLogLine.append(request, address: address, time: time.value(now: Clock.wallClockSeconds()),
                             status: status, bodyBytes: bodyBytes, requestID: requestID, into: buffer)
        flushIfFull()
    }

    /// The line of a request whose file body is still to be sent: completed by `complete` with
    /// the bytes that did leave, as nginx logs $body_bytes_sent when the request ends.
    func hold(_ request: Request, on fd: Int32, status: Int, requestID: String? = nil) -> AccessLogLine.Held {
        AccessLogLine.held(request, address: peers.address(of: fd), time: time.value(now: Clock.wallClockSeconds()),
                           status: status, requestID: requestID)
    }

    func complete(_ line: AccessLogLine.Held, bodyBytes: Int) {
        AccessLogLine.append(line, bodyBytes: bodyBytes, into: buffer)
        flushIfFull()
    }

    /// Logs a response the server gave on its own to a request it could not take.
    func recordRefused(on fd: Int32, status: Int, bodyBytes: Int) {
        AccessLogLine.appendRefused(address: peers.address(of: fd), time: time.value(now: Clock.wallClockSeconds()),
                                    status: status, bodyBytes: bodyBytes, into: buffer)
        flushIfFull()
    }

    private func flushIfFull() {
        if buffer.readableCount >= Self.flushThreshold { flush() }
    }

    // MARK: Flushing

    /// When the event loop must next wake to write buffered lines, if any wait.
    var flushDeadline: Int? { pendingSince.map { $0 + Self.flushInterval } }

    /// Called once per loop turn: starts the clock on new lines, writes them once it has run out.
    func flushIfDue(now: Int) {
        guard buffer.readableCount > 0 else {
            pendingSince = nil
            return
        }
        guard let since = pendingSince else {
            pendingSince = now
            return
        }
        if now - since >= Self.flushInterval { flush() }
    }

    /// Writes every buffered line. A failed write drops them: the log must not grow without bound.
    package func flush() {
        pendingSince = nil
        defer { buffer.clear() }
        while buffer.readableCount > 0 {
            let fd = file.raw
            do {
                let written = try buffer.withReadableBytes { bytes in
                    try blockingSystemCall("write(access log, fd \(fd))", { Glibc.write(fd, bytes.baseAddress, bytes.count) })
                }
                // A write that takes nothing would loop forever: count it as a failure (no space).
                guard written > 0 else { throw SystemError(call: "write(access log, fd \(fd))", errno: ENOSPC) }
                buffer.consume(written)
                failing = false
            } catch {
                if !failing { logger.error("access log lines lost: \(error)") }
                failing = true
                return
            }
        }
    }

    // MARK: Reopening and closing

    /// SIGUSR1 (logrotate has renamed the file): write what is buffered to the old
    /// file, then open the path anew. If that fails the old file stays in use.
    func reopen() {
        flush()
        guard case .file(let path) = destination else { return }
        do {
            let reopened = try AccessLogDestination.openFile(path)
            file.close()
            file = reopened
            logger.info("reopened the access log \(path)")
        } catch {
            logger.error("cannot reopen the access log, still writing to the old file: \(error)")
        }
    }

    /// Writes what is buffered and closes the file (standard output stays open).
    package func close() {
        flush()
        if case .file = destination { file.close() }
    }
}

// Waiting: how a blocking model waits. Every wait is a poll(2) on the one
// descriptor it is about (the listener, or its connection) and a stop
// descriptor (a signalfd in the process models, a pipe in the thread models),
// so a stop signal ends any wait at once, with no signal handler and without
// interrupting a read or write in progress.
import CEventPoll
import Glibc

/// How a wait ended.
enum WaitOutcome: Equatable {
    /// The descriptor is ready (or has an error or hang-up for the next call to report).
    case ready
    /// The stop descriptor fired: leave.
    case stop
    /// The timeout passed.
    case timedOut
}

enum Waiting {
    /// Waits until `fd` is ready for `events` (POLLIN or POLLOUT), `stop` is readable,
    /// or `timeoutMilliseconds` pass (nil: no limit). A stop wins over readiness.
    static func wait(for fd: Int32, _ events: Int16, orStop stop: Int32,
                     timeoutMilliseconds: Int?) throws(SystemError) -> WaitOutcome {
        var descriptors = [pollfd(fd: fd, events: events, revents: 0), pollfd(fd: stop, events: Int16(POLLIN), revents: 0)]
        let timeout = timeoutMilliseconds.map { Int32(clamping: max(0, $0)) } ?? -1
        let ready = try descriptors.withUnsafeMutableBufferPointer { (pointer) throws(SystemError) -> Int32 in
            try blockingSystemCall("poll(fd \(fd), stop fd \(stop))", { poll(pointer.baseAddress, 2, timeout) })
        }
        if descriptors[1].revents != 0 { return .stop }
        return ready == 0 ? .timedOut : .ready
    }
}

/// A pipe between threads. As the thread models' stop descriptor it wakes every
/// thread waiting on its read end: nothing reads it, so it stays readable for
/// all. As thread-per-connection's "finished" pipe, each ending thread posts its
/// pthread_t and the main thread takes them to join. Posts are 8 bytes, under
/// PIPE_BUF, so the kernel never interleaves two of them (pipe(7)).
final class WakePipe {
    let readEnd: Int32
    private let writeEnd: Int32

    init() throws(SystemError) {
        var ends: [Int32] = [0, 0]
        _ = try ends.withUnsafeMutableBufferPointer { (pointer) throws(SystemError) -> Int32 in
            try blockingSystemCall("pipe2", { cep_pipe(pointer.baseAddress) })
        }
        readEnd = ends[0]
        writeEnd = ends[1]
    }

    /// Writes one value (a pipe holds 8,192 of them before a post could fail).
    func post(_ value: UInt64 = 1) {
        var value = value
        _ = try? systemCall("write(pipe \(writeEnd))", { Glibc.write(writeEnd, &value, 8) })
    }

    /// Reads the values posted so far, without waiting.
    func takeAvailable() -> [UInt64] {
        var values: [UInt64] = []
        var value: UInt64 = 0
        while let count = (try? systemCall("read(pipe \(readEnd))", { Glibc.read(readEnd, &value, 8) })) ?? nil, count == 8 {
            values.append(value)
        }
        return values
    }

    func close() {
        _ = Glibc.close(readEnd)
        _ = Glibc.close(writeEnd)
    }
}

extension Waiting {
    /// Waits with no time limit until at least one of `fds` is readable; says which are.
    /// A negative descriptor is left out of the wait (poll(2) skips it).
    static func readable(_ fds: [Int32]) throws(SystemError) -> [Bool] {
        var descriptors = fds.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
        _ = try descriptors.withUnsafeMutableBufferPointer { (pointer) throws(SystemError) -> Int32 in
            try blockingSystemCall("poll(\(fds.count) descriptors)", { poll(pointer.baseAddress, nfds_t(fds.count), -1) })
        }
        return descriptors.map { $0.revents != 0 }
    }
}

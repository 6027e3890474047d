// Waiting: how a blocking model waits. Every wait is a poll(2) on the one
// descriptor it is about (the listener, or its connection) and the stop
// descriptors of its StopNotice, so a stop signal ends any wait at once, with no
// signal handler. Sockets are non-blocking: a read or write never waits in the
// kernel, so these polls, with their deadlines, are the only places that wait.
import Glibc
import ServerSystem

/// How a wait ended.
enum WaitOutcome: Equatable {
    /// The descriptor is ready (or has an error or hang-up for the next call to report).
    case ready
    /// A stop descriptor fired; the notice has been updated (finishing or aborting).
    case stop
    /// The timeout passed.
    case timedOut
}

enum Waiting {
    /// Waits until `fd` is ready for `events` (POLLIN or POLLOUT), a stop descriptor is
    /// readable, or `timeoutMilliseconds` pass (nil: no limit). A stop wins over
    /// readiness: the caller looks at the notice first, and waits again if it goes on.
    /// A negative `fd` waits for the stop or the timeout alone.
    static func wait(for fd: Int32, _ events: Int16, orStop stop: StopNotice,
                     timeoutMilliseconds: Int?) throws(SystemError) -> WaitOutcome {
        let stops = stop.descriptors
        var descriptors = [pollfd(fd: fd, events: events, revents: 0)]
            + stops.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
        let timeout = timeoutMilliseconds.map { Int32(clamping: max(0, $0)) } ?? -1
        let ready = try descriptors.withUnsafeMutableBufferPointer { (pointer) throws(SystemError) -> Int32 in
            try blockingSystemCall("poll(fd \(fd), stop \(stops))", { poll(pointer.baseAddress, nfds_t(pointer.count), timeout) })
        }
        if descriptors.dropFirst().contains(where: { $0.revents != 0 }) {
            try stop.update()
            return .stop
        }
        return ready == 0 ? .timedOut : .ready
    }

    /// Waits until at least one of `fds` is readable or the timeout passes (nil: no
    /// limit); says which are. A negative descriptor is left out of the wait (poll(2) skips it).
    static func readable(_ fds: [Int32], timeoutMilliseconds: Int? = nil) throws(SystemError) -> [Bool] {
        var descriptors = fds.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
        let timeout = timeoutMilliseconds.map { Int32(clamping: max(0, $0)) } ?? -1
        _ = try descriptors.withUnsafeMutableBufferPointer { (pointer) throws(SystemError) -> Int32 in
            try blockingSystemCall("poll(\(fds.count) descriptors)", { poll(pointer.baseAddress, nfds_t(fds.count), timeout) })
        }
        return descriptors.map { $0.revents != 0 }
    }

    /// Which of `fds` are readable right now.
    static func readableNow(_ fds: [Int32]) throws(SystemError) -> [Bool] {
        try readable(fds, timeoutMilliseconds: 0)
    }
}

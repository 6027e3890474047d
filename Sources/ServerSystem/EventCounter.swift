// EventCounter: an eventfd(2), the kernel's 64-bit counter that a thread can
// raise and an epoll loop can wait on. Threads finishing deferred handler work
// raise it; the worker's event loop sees it readable and takes their answers.
import CEventPoll
import Glibc

/// A non-blocking eventfd: `signal` adds one, `reset` reads (and zeroes) the count.
package struct EventCounter: ~Copyable, Sendable {
    private let descriptor: FileDescriptor

    /// eventfd(2) with EFD_NONBLOCK (a reset never blocks the loop) and EFD_CLOEXEC.
    package init() throws(SystemError) {
        let raw = try systemCall("eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)", { cep_eventfd() })
        descriptor = FileDescriptor(raw!)
    }

    package var fd: Int32 { descriptor.raw }

    /// Adds one to the counter, making the descriptor readable. Any thread may call it.
    /// The write cannot block in practice: it would need 2^64 - 2 unread signals (eventfd(2)).
    package func signal() {
        var one: UInt64 = 1
        _ = try? systemCall("write(eventfd \(fd))", { Glibc.write(descriptor.raw, &one, 8) })
    }

    /// Reads the counter back to zero; returns how many signals it held (0 when none).
    @discardableResult
    package func reset() -> UInt64 {
        var count: UInt64 = 0
        let read = (try? systemCall("read(eventfd \(fd))", { Glibc.read(descriptor.raw, &count, 8) })) ?? nil
        return read == 8 ? count : 0
    }

    package func close() {
        descriptor.close()
    }
}

// FileDescriptor: the one owner of an open descriptor, and the one place that
// calls close(2). Every descriptor the server opens (listener, connection,
// epoll instance, signalfd, pipe, log file) is held by exactly one of these.
import Glibc
import Synchronization

/// An open descriptor and the duty to close it, exactly once.
///
/// Not copyable, so a descriptor has one owner; `close` may be called by
/// several paths of that owner (a draining event loop and the model that opened
/// the listener both close it) and acts only the first time, so a number the
/// kernel has since handed to another file is never closed by mistake. Dropping
/// the value does not close it: closing is always a step its owner takes, at the
/// moment it chooses (a parent closes its copy right after fork; a test may wrap
/// a descriptor it closes itself).
@usableFromInline
package struct FileDescriptor: ~Copyable, Sendable {
    /// The descriptor's number, for the calls that take one. It stays readable
    /// after `close`, for log lines; it must not be passed to the kernel then.
    @usableFromInline package let raw: Int32
    /// Cleared by the first `close`. Atomic because a listener may be shared by
    /// threads (the thread pool's); the cost is paid once per descriptor.
    private let open = Atomic<Bool>(true)

    /// Takes ownership of `raw`.
    package init(_ raw: Int32) {
        self.raw = raw
    }

    /// Whether `close` has not been called yet.
    package var isOpen: Bool { open.load(ordering: .relaxed) }

    /// Closes the descriptor on the first call; later calls do nothing. On Linux
    /// the descriptor is released even when close reports an error (EINTR, EIO),
    /// so the error is not retried and there is nothing useful to do with it
    /// (close(2), "Dealing with error returns").
    package func close() {
        guard open.exchange(false, ordering: .relaxed) else { return }
        _ = Glibc.close(raw)
    }
}

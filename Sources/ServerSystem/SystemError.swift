// SystemError and the one place where errno is read: every syscall in the
// server goes through `systemCall`, which retries EINTR (or, where the caller
// says so, hands it back like EAGAIN), hands EAGAIN back as a value, traps on errnos that can only mean a programming error, and throws
// everything else as a SystemError naming the call.
import Glibc

/// A failed system call: which call (with its arguments), and the errno it set.
///
/// Its description reads like nginx's error log: `accept4(fd 5): Too many open files (errno 24)`.
public struct SystemError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The call and its arguments, for example `bind(0.0.0.0:8080)`.
    public let call: String
    /// The errno value the call left behind.
    public let errno: Int32

    public init(call: String, errno: Int32) {
        self.call = call
        self.errno = errno
    }

    /// The C library's text for the errno, for example "Address already in use".
    public var reason: String { String(cString: strerror(errno)) }

    public var description: String { "\(call): \(reason) (errno \(errno))" }
}

/// Runs one raw system call that returns -1 and sets errno on failure.
///
/// - `EINTR` is retried here, so no caller writes that loop again; with
///   `retryOnInterrupt: false` it returns `nil` instead, for a wait whose caller
///   recomputes its timeout and re-checks its flags anyway (epoll_wait, sigtimedwait).
/// - `EAGAIN`/`EWOULDBLOCK` returns `nil`: on a non-blocking descriptor it is an expected state.
/// - `EBADF` and `EFAULT` trap: they mean the server passed a closed descriptor or a bad pointer.
/// - Anything else throws a `SystemError` whose call text is only built on failure.
///
/// Inlinable, like the socket reads and writes built on it: they run for every request,
/// from the Server target, and a call through a generic function would cost more than the syscall's wrapper.
@inlinable @inline(__always)
package func systemCall<Result: BinaryInteger>(
    _ call: @autoclosure () -> String,
    retryOnInterrupt: Bool = true,
    _ body: () -> Result
) throws(SystemError) -> Result? {
    try systemCall(call(), retryOnInterrupt: retryOnInterrupt, failedIf: { $0 == -1 }, body)
}

/// `systemCall` for a call whose failure value is not -1 (mmap's MAP_FAILED).
/// This is the one function in the server that reads errno.
@inlinable @inline(__always)
package func systemCall<Result>(
    _ call: @autoclosure () -> String,
    retryOnInterrupt: Bool = true,
    failedIf failed: (Result) -> Bool,
    _ body: () -> Result
) throws(SystemError) -> Result? {
    while true {
        let result = body()
        if !failed(result) { return result }
        let code = Glibc.errno  // before anything else can change it
        switch code {
        case EINTR:
            if retryOnInterrupt { continue }
            return nil
        case EAGAIN, EWOULDBLOCK:
            return nil
        case EBADF, EFAULT:
            preconditionFailure("\(call()): programming error: \(SystemError(call: call(), errno: code))")
        default:
            throw SystemError(call: call(), errno: code)
        }
    }
}

/// `systemCall` for calls on blocking descriptors, where EAGAIN is a failure like any other.
@inlinable @inline(__always)
package func blockingSystemCall<Result: BinaryInteger>(
    _ call: @autoclosure () -> String,
    _ body: () -> Result
) throws(SystemError) -> Result {
    guard let result = try systemCall(call(), body) else {
        throw SystemError(call: call(), errno: EAGAIN)
    }
    return result
}

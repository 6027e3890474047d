// Threads: POSIX threads for the two thread models, started with a Swift
// closure. No other model creates a thread, and no model forks once one exists.
// The pthread calls return their error number instead of setting errno.
import CEventPoll
import Glibc
import Logging
import ServerSystem

enum Threads {
    /// A connection loop needs little stack: buffers live on the heap. A small
    /// reservation keeps thousands of threads cheap in address space too.
    static let stackBytes = 512 * 1024

    /// Starts `body` on a new thread, which must be joined once it ends.
    static func start(_ body: @escaping () -> Void) throws(SystemError) -> pthread_t {
        var attributes = pthread_attr_t()
        try check("pthread_attr_init", pthread_attr_init(&attributes))
        defer { pthread_attr_destroy(&attributes) }
        try check("pthread_attr_setstacksize(\(stackBytes))", pthread_attr_setstacksize(&attributes, stackBytes))
        let box = Unmanaged.passRetained(Body(body)).toOpaque()
        var thread = pthread_t()
        let result = pthread_create(&thread, &attributes, { context in
            let body = Unmanaged<Body>.fromOpaque(context!).takeRetainedValue()
            body.run()
            return nil
        }, box)
        guard result == 0 else {
            Unmanaged<Body>.fromOpaque(box).release()
            throw SystemError(call: "pthread_create", errno: result)
        }
        return thread
    }

    /// Waits for `thread` to end. It can only fail on a thread that is not joinable
    /// (or joined twice, or the caller itself): a bookkeeping error, logged loudly.
    static func join(_ thread: pthread_t, logger: Logger) {
        let result = pthread_join(thread, nil)
        if result != 0 { logger.error("\(SystemError(call: "pthread_join", errno: result))") }
    }

    /// The kernel's id of the calling thread (as in /proc/PID/task).
    static var currentID: Int32 { cep_thread_id() }

    private static func check(_ call: String, _ result: Int32) throws(SystemError) {
        guard result == 0 else { throw SystemError(call: call, errno: result) }
    }

    private final class Body {
        let run: () -> Void
        init(_ run: @escaping () -> Void) { self.run = run }
    }
}

/// Carries a value that cannot be copied (a connection's socket) into the closure
/// a new thread runs: a closure cannot capture one, so it rides in this box, and
/// whoever takes it out owns it.
final class Handoff<Value: ~Copyable> {
    private var value: Value?

    init(_ value: consuming Value) {
        self.value = .some(value)
    }

    /// The value; taking it twice is a programming error.
    func take() -> Value {
        guard let value = value.take() else { preconditionFailure("a handed-off value was taken twice") }
        return value
    }
}

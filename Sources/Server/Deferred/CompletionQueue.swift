// CompletionQueue: where deferred handler work posts its answers for the event
// loop. Any thread appends under a lock and raises the eventfd; the loop, woken
// by it in epoll, takes every answer at once. The connection is named by its
// epoll token (fd and generation) and the ticket's serial, so an answer for a
// connection that was closed or timed out meanwhile is recognised and dropped.
import HTTP1
import ServerSystem
import Synchronization

/// One finished piece of deferred work.
package struct Completion: Sendable {
    /// The connection's epoll token when the work was handed out.
    let token: UInt64
    /// The ticket it answers (see HandlerTicket).
    let serial: UInt64
    let response: Response
}

package final class CompletionQueue: Sendable {
    private struct State {
        var pending: [Completion] = []
        /// Connections (epoll tokens) whose streamed body moved on the other side (StreamedRequestBody,
        /// ChunkPump): the loop resumes them if they still wait for it.
        var nudged: [UInt64] = []
        /// Set by `close`: work that outlives the loop (an embedded reactor's pool threads)
        /// must not write to a descriptor number the kernel may have handed to another file.
        var closed = false
    }

    private let state = Mutex(State())
    private let wakeup: EventCounter

    init() throws(SystemError) {
        wakeup = try EventCounter()
    }

    /// The eventfd the loop watches for readability.
    var fd: Int32 { wakeup.fd }

    /// Called by whichever thread finished the work. The eventfd is raised under the
    /// lock, so `close` cannot slip in between the check and the write.
    func post(_ completion: Completion) {
        state.withLock { state in
            guard !state.closed else { return }
            state.pending.append(completion)
            wakeup.signal()
        }
    }

    /// Called by a body's consumer or producer: the connection with `token` may go on.
    func nudge(_ token: UInt64) {
        state.withLock { state in
            guard !state.closed else { return }
            state.nudged.append(token)
            wakeup.signal()
        }
    }

    /// The nudged connections, taken with the answers (`takeAll`, which resets the counter).
    func takeNudges() -> [UInt64] {
        state.withLock { state in
            defer { state.nudged.removeAll() }
            return state.nudged
        }
    }

    /// Called by the loop when the eventfd is readable. The counter is reset under the
    /// lock with the swap, and posts raise it under the lock too, so every answer left
    /// in the queue has raised it again: none is lost.
    func takeAll() -> [Completion] {
        state.withLock { state in
            guard !state.closed else { return [] }
            wakeup.reset()
            defer { state.pending.removeAll() }
            return state.pending
        }
    }

    /// Closes the eventfd; answers posted afterwards are dropped.
    func close() {
        state.withLock { state in
            state.closed = true
            state.pending.removeAll()
            state.nudged.removeAll()
            wakeup.close()
        }
    }
}

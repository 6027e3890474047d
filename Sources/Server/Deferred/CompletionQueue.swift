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
    private let pending = Mutex<[Completion]>([])
    private let wakeup: EventCounter

    init() throws(SystemError) {
        wakeup = try EventCounter()
    }

    /// The eventfd the loop watches for readability.
    var fd: Int32 { wakeup.fd }

    /// Called by whichever thread finished the work.
    func post(_ completion: Completion) {
        pending.withLock { $0.append(completion) }
        wakeup.signal()
    }

    /// Called by the loop when the eventfd is readable: the counter is read first, so
    /// an answer posted after the swap raises the descriptor again and none is lost.
    func takeAll() -> [Completion] {
        wakeup.reset()
        return pending.withLock { pending in
            defer { pending.removeAll() }
            return pending
        }
    }

    func close() {
        wakeup.close()
    }
}

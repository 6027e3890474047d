// FinishedThreads: how an ending thread tells the main thread to join it. The
// ids go into a locked list, which cannot overflow; the pipe is only a doorbell,
// rung when the list goes from empty to non-empty, so at most a byte or two is
// ever pending and a post can never be lost to a full pipe (a lost post would be
// a thread never joined and a slot of --max-threads gone for good).
//
// No lost wake-up: the main thread drains the doorbell *before* taking the list.
// A post that lands after the take finds the list empty and rings again; one
// that lands between the drain and the take is taken now and leaves at most a
// spurious ring behind.
import Glibc
import ServerSystem
import Synchronization

final class FinishedThreads: Sendable {
    private let ended = Mutex<[pthread_t]>([])
    /// Readable while ended threads may be waiting to be joined.
    let doorbell: WakePipe

    init() throws(SystemError) {
        doorbell = try WakePipe()
    }

    /// Called by a thread as the last thing it does.
    func post(_ thread: pthread_t) {
        let wasEmpty = ended.withLock { list in
            list.append(thread)
            return list.count == 1
        }
        if wasEmpty { doorbell.raise() }
    }

    /// The threads that have posted since the last call, without waiting.
    func take() -> [pthread_t] {
        doorbell.drain()
        return ended.withLock { list in
            defer { list.removeAll() }
            return list
        }
    }

    func close() {
        doorbell.close()
    }
}

// Semaphore: a POSIX unnamed semaphore (sem_init(3)), for the handler pool's
// threads to sleep on until work is queued, and for a blocking model to wait
// for a deferred task, and for the handler pool's monitor to tick while jobs
// wait. Kept at a stable heap address, as sem_t requires.
import Glibc
import ServerSystem

final class Semaphore: @unchecked Sendable {
    // sem_post and sem_wait are thread-safe by POSIX; the pointer itself never changes.
    private let raw: UnsafeMutablePointer<sem_t>

    init() {
        raw = .allocate(capacity: 1)
        // Only EINVAL (value too large) or ENOSYS can fail it: a programming or platform error.
        do {
            _ = try systemCall("sem_init(0, 0)", { sem_init(raw, 0, 0) })
        } catch {
            preconditionFailure("\(error)")
        }
    }

    deinit {
        sem_destroy(raw)
        raw.deallocate()
    }

    func signal() {
        sem_post(raw)
    }

    /// Waits for a `signal`; `systemCall` retries when a signal handler interrupts
    /// (EINTR, sem_wait(3)), the only failure of a valid semaphore.
    func wait() {
        _ = try? systemCall("sem_wait", { sem_wait(raw) })
    }

    /// Waits for a `signal` at most about `milliseconds` (sem_timedwait(3), whose deadline is on
    /// CLOCK_REALTIME: a step of the wall clock can shorten or stretch this one wait, which only
    /// moves a tick); whether a signal came. An interrupted wait is retried against the same deadline.
    @discardableResult
    func wait(milliseconds: Int) -> Bool {
        var deadline = timespec()
        clock_gettime(CLOCK_REALTIME, &deadline)
        let nanoseconds = deadline.tv_nsec + milliseconds % 1000 * 1_000_000
        deadline.tv_sec += milliseconds / 1000 + nanoseconds / 1_000_000_000
        deadline.tv_nsec = nanoseconds % 1_000_000_000
        // ETIMEDOUT is the expected failure; there is nothing else to tell the caller.
        return (try? systemCall("sem_timedwait", { sem_timedwait(raw, &deadline) })) != nil
    }
}

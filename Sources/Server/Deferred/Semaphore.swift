// Semaphore: a POSIX unnamed semaphore (sem_init(3)), for the handler pool's
// threads to sleep on until work is queued, and for a blocking model to wait
// for a deferred task. Kept at a stable heap address, as sem_t requires.
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
}

// Semaphore: a POSIX unnamed semaphore (sem_init(3)), for the handler pool's
// threads to sleep on until work is queued, and for a blocking model to wait
// for a deferred task. Kept at a stable heap address, as sem_t requires.
import Glibc

final class Semaphore: @unchecked Sendable {
    // sem_post and sem_wait are thread-safe by POSIX; the pointer itself never changes.
    private let raw: UnsafeMutablePointer<sem_t>

    init() {
        raw = .allocate(capacity: 1)
        // Only EINVAL (value too large) or ENOSYS can fail it: a programming or platform error.
        precondition(sem_init(raw, 0, 0) == 0, "sem_init failed (errno \(errno))")
    }

    deinit {
        sem_destroy(raw)
        raw.deallocate()
    }

    func signal() {
        sem_post(raw)
    }

    /// Waits for a `signal`, retrying when a signal handler interrupts (EINTR, sem_wait(3)).
    func wait() {
        while sem_wait(raw) != 0 && errno == EINTR {}
    }
}

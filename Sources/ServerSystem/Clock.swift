// Clock readings the reactor and supervisor need, without Foundation.
import Glibc

@usableFromInline
package enum Clock {
    /// Milliseconds on the monotonic clock: for deadlines and intervals.
    @inlinable
    package static func monotonicMilliseconds() -> Int {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return now.tv_sec * 1000 + now.tv_nsec / 1_000_000
    }

    /// Whole seconds of wall-clock time, read from the coarse clock: it costs a
    /// few nanoseconds through the vDSO, cheap enough to read on every loop turn.
    @inlinable
    package static func wallClockSeconds() -> Int {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME_COARSE, &now)
        return now.tv_sec
    }
}

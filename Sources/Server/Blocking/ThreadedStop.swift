// ThreadedStop: how the thread models' main thread ends its serving threads.
// QUIT raises the finish pipe (each thread completes the request in hand and
// ends by --graceful-timeout); TERM or INT, first or meanwhile, raise the abort
// pipe. Either way the main thread joins the threads as they post their end,
// and still reads its signals while it waits, so a TERM cuts a graceful stop short.
import Glibc
import Logging
import ServerSystem

struct ThreadedStop {
    let pipes: StopPipes
    let finished: FinishedThreads
    let signals: SignalDescriptor
    let gracefulMilliseconds: Int
    let logger: Logger

    /// What a stuck thread gets beyond its stop before the main thread gives up on it.
    static let graceMilliseconds = 2000
    /// How long threads get to end after an abort.
    static let abortMilliseconds = 5000

    /// Stops the `live` threads for `signal` and joins them; returns how many are
    /// still running (stuck) when the deadline passed. Never throws: it runs on every way out.
    func stop(after signal: Int32, live: Int) -> Int {
        var live = live
        var aborting = false
        var deadline = 0
        func abort() {
            aborting = true
            pipes.abort.raise()
            deadline = Clock.monotonicMilliseconds() + Self.abortMilliseconds
        }
        if signal == SIGQUIT {
            pipes.finish.raise()
            deadline = Clock.monotonicMilliseconds() + gracefulMilliseconds + Self.graceMilliseconds
        } else {
            abort()
        }
        do {
            while live > 0 {
                let remaining = deadline - Clock.monotonicMilliseconds()
                if remaining <= 0 { break }
                let ready = try Waiting.readable([finished.doorbell.readEnd, signals.fd], timeoutMilliseconds: remaining)
                if ready[1] {
                    while let next = try signals.next() {
                        if next != SIGQUIT && !aborting { abort() }
                    }
                }
                for thread in finished.take() {
                    Threads.join(thread, logger: logger)
                    live -= 1
                }
            }
        } catch {
            logger.error("\(error)")
        }
        if live > 0 { logger.warning("\(live) threads did not stop in time; exiting without them") }
        return live
    }
}

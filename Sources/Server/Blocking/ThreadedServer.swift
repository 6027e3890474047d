// ThreadedServer: what both thread models set up around their threads (the
// listener, the stop signals read by the main thread, the stop pipes the
// threads watch, the list of threads that have ended) and how they end: raise
// the pipe the stop signal means and join every thread (ThreadedStop).
import Glibc
import ServerSystem

final class ThreadedServer {
    let listener: Listener
    let signals: SignalDescriptor
    let pipes: StopPipes
    let finished: FinishedThreads
    /// Threads started and not joined yet.
    var live = 0
    /// The signal that ended serving; until one arrives, a failure stops the threads at once.
    var stopSignal = SIGTERM
    private let context: ModelContext

    /// Opens the listener and announces it (the startup line ends with `details`).
    init(_ context: ModelContext, details: String) throws {
        self.context = context
        let listener = try context.start(details: details)
        do {
            signals = try SignalDescriptor(ReactorServing.stopSignals)
        } catch {
            listener.close()
            throw error
        }
        do {
            pipes = try StopPipes()
        } catch {
            signals.close()
            listener.close()
            throw error
        }
        do {
            finished = try FinishedThreads()
        } catch {
            pipes.close()
            signals.close()
            listener.close()
            throw error
        }
        self.listener = listener
    }

    /// Stops and joins the threads, then closes what no running thread can touch any more
    /// (a thread still stuck may yet use the pipes: they are left open for the exit).
    func end() {
        let stop = ThreadedStop(pipes: pipes, finished: finished, signals: signals,
                                gracefulMilliseconds: context.configuration.gracefulTimeout, logger: context.logger)
        if stop.stop(after: stopSignal, live: live) == 0 {
            pipes.close()
            finished.close()
        }
        signals.close()
        listener.close()
    }
}

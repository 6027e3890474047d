// ThreadPool: prefork with threads. N threads, started up front, each a serial
// server on the shared listener; the main thread only waits for a stop signal,
// then raises the stop pipe it means (QUIT: finish, TERM/INT: abort) and joins
// the threads as they end. Threads are cheaper than processes, but N still
// bounds how many clients are served at once.
import Glibc

enum ThreadPool {
    static func run(_ context: ModelContext) throws -> Int32 {
        let listener = try context.start(details: "\(context.configuration.threads) threads")
        defer { listener.close() }
        let signals = try SignalDescriptor(ReactorServing.stopSignals)
        defer { signals.close() }
        let pipes = try StopPipes()
        let finished = try FinishedThreads()
        var live = 0
        var signal = SIGTERM  // a failure below stops the threads at once
        defer {
            let stop = ThreadedStop(pipes: pipes, finished: finished, signals: signals,
                                    gracefulMilliseconds: context.configuration.gracefulTimeout, logger: context.logger)
            // A thread still running may yet touch the pipes: then they are left open for the exit.
            if stop.stop(after: signal, live: live) == 0 {
                pipes.close()
                finished.close()
            }
        }
        for _ in 0..<context.configuration.threads {
            _ = try Threads.start {
                let connection = context.blockingConnection(stop: context.threadStop(pipes), thread: Threads.currentID)
                do {
                    // Every thread sweeps the shared queue on QUIT: the whole server is stopping.
                    try AcceptLoop(listener: listener, connection: connection).run()
                } catch {
                    context.logger.critical("thread \(Threads.currentID) failed: \(error)")
                }
                finished.post(pthread_self())
            }
            live += 1
        }
        while true {
            _ = try Waiting.readable([signals.fd])
            if let received = try signals.next() {
                signal = received
                return 0
            }
        }
    }
}

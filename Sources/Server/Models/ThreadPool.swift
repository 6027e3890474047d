// ThreadPool: prefork with threads. N threads, started up front, each a serial
// server on the shared listener; the main thread only waits for a stop signal,
// then raises the stop pipe it means (QUIT: finish, TERM/INT: abort) and joins
// the threads as they end. Threads are cheaper than processes, but N still
// bounds how many clients are served at once.
import Glibc

enum ThreadPool {
    static func run(_ context: ModelContext) throws -> Int32 {
        let server = try ThreadedServer(context, details: "\(context.configuration.threads) threads")
        defer { server.end() }
        // What the threads use, taken out of the server so they share nothing mutable.
        let (listener, pipes, finished) = (server.listener, server.pipes, server.finished)
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
            server.live += 1
        }
        while true {
            _ = try Waiting.readable([server.signals.fd])
            if let received = try server.signals.next() {
                server.stopSignal = received
                return 0
            }
        }
    }
}

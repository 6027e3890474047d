// ThreadPool: prefork with threads. N threads, started up front, each a serial
// server on the shared listener; the main thread only waits for a stop signal,
// then wakes them all through a pipe and joins them. Threads are cheaper than
// processes, but N still bounds how many clients are served at once.
import Glibc

enum ThreadPool {
    static func run(_ context: ModelContext) throws -> Int32 {
        let listener = try context.start(details: "\(context.configuration.threads) threads")
        defer { listener.close() }
        let stop = try WakePipe()
        defer { stop.close() }
        var threads: [pthread_t] = []
        defer {
            stop.post()
            threads.forEach(Threads.join)
        }
        for _ in 0..<context.configuration.threads {
            threads.append(try Threads.start {
                let connection = context.blockingConnection(stop: stop.readEnd, thread: Threads.currentID)
                do {
                    try AcceptLoop(listener: listener, connection: connection).run()
                } catch {
                    context.logger.critical("thread \(Threads.currentID) failed: \(error)")
                }
            })
        }
        context.waitForStopSignal()
        return 0
    }
}

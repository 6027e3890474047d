// ThreadPerConnection: the main thread accepts and starts a new thread for
// each connection; the thread serves it and ends. Cheaper than a fork, but a
// thread (and its stack) per client. A finished thread posts its id on a pipe
// and the main thread joins it, so the main thread alone counts live threads;
// at --max-threads it stops accepting until one has ended.
import Glibc

enum ThreadPerConnection {
    static func run(_ context: ModelContext) throws -> Int32 {
        let bound = context.configuration.maxThreads
        let listener = try context.start(details: "at most \(bound) threads")
        defer { listener.close() }
        let signals = try SignalDescriptor(ReactorServing.stopSignals)
        defer { signals.close() }
        let stop = try WakePipe()
        let finished = try WakePipe()  // one byte per thread that ended
        var live = 0
        defer {
            stop.post()
            live -= (try? joinFinishedThreads(finished, waitingFor: live)) ?? 0
            if live == 0 { stop.close(); finished.close() }  // else leave them open to the ones still ending
        }
        while true {
            let ready = try Waiting.readable([live < bound ? listener.fd : -1, signals.fd, finished.readEnd])
            if ready[1] { return 0 }
            if ready[2] { live -= try joinFinishedThreads(finished, waitingFor: 0) }
            if ready[0], let socket = try BlockingAccept.next(from: listener, logger: context.logger) {
                do {
                    _ = try Threads.start {
                        context.blockingConnection(stop: stop.readEnd, thread: Threads.currentID).serve(socket)
                        finished.post(UInt64(pthread_self()))
                    }
                    live += 1
                } catch {
                    context.logger.error("\(error)")
                    socket.close()
                }
            }
        }
    }

    /// Joins the threads that posted their end on `finished`, waiting (at most 5 s:
    /// stopping must not hang) until `count` have; returns how many were joined.
    private static func joinFinishedThreads(_ finished: WakePipe, waitingFor count: Int) throws(SystemError) -> Int {
        let deadline = Clock.monotonicMilliseconds() + 5000
        var joined = 0
        while true {
            for thread in finished.takeAvailable() {
                Threads.join(pthread_t(thread))
                joined += 1
            }
            let remaining = deadline - Clock.monotonicMilliseconds()
            if joined >= count || remaining <= 0 { return joined }
            _ = try Waiting.wait(for: finished.readEnd, Int16(POLLIN), orStop: -1, timeoutMilliseconds: remaining)
        }
    }
}

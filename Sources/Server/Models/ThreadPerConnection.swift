// ThreadPerConnection: the main thread accepts and starts a new thread for
// each connection; the thread serves it and ends. Cheaper than a fork, but a
// thread (and its stack) per client. Finished threads report on a pipe, so the
// main thread alone counts them; at --max-threads it stops accepting until one ends.
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
            live -= (try? finishedThreads(finished, waitingFor: live)) ?? 0
            if live == 0 { stop.close(); finished.close() }  // else leave them open to the ones still ending
        }
        while true {
            let ready = try Waiting.readable([live < bound ? listener.fd : -1, signals.fd, finished.readEnd])
            if ready[1] { return 0 }
            if ready[2] { live -= finished.takeAvailable() }
            if ready[0], let socket = try BlockingAccept.next(from: listener, logger: context.logger) {
                do {
                    try Threads.start(detached: true) {
                        context.blockingConnection(stop: stop.readEnd, thread: Threads.currentID).serve(socket)
                        finished.post()
                    }
                    live += 1
                } catch {
                    context.logger.error("\(error)")
                    socket.close()
                }
            }
        }
    }

    /// Waits (at most 5 s: stopping must not hang) until `count` threads have reported
    /// their end on `finished`; returns how many did.
    private static func finishedThreads(_ finished: WakePipe, waitingFor count: Int) throws(SystemError) -> Int {
        var seen = finished.takeAvailable()
        let deadline = Clock.monotonicMilliseconds() + 5000
        while seen < count && Clock.monotonicMilliseconds() < deadline {
            _ = try Waiting.wait(for: finished.readEnd, Int16(POLLIN), orStop: -1,
                                 timeoutMilliseconds: deadline - Clock.monotonicMilliseconds())
            seen += finished.takeAvailable()
        }
        return seen
    }
}

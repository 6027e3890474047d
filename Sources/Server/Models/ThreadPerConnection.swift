// ThreadPerConnection: the main thread accepts and starts a new thread for
// each connection; the thread serves it and ends. Cheaper than a fork, but a
// thread (and its stack) per client. A finished thread posts its id
// (FinishedThreads) and the main thread joins it, so the main thread alone
// counts live threads; at --max-threads it stops accepting until one has ended.
// On QUIT it stops accepting, hands what already waits in the queue to threads
// that finish at once, and waits for every thread to complete its request.
import Glibc
import Logging

enum ThreadPerConnection {
    static func run(_ context: ModelContext) throws -> Int32 {
        let bound = context.configuration.maxThreads
        let listener = try context.start(details: "at most \(bound) threads")
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
        func accept() throws(SystemError) -> Socket? {
            try BlockingAccept.next(from: listener, logger: context.logger) { () throws(SystemError) in
                _ = try Waiting.readable([signals.fd], timeoutMilliseconds: BlockingAccept.pauseMilliseconds)
            }
        }
        func serveOnNewThread(_ socket: Socket) {
            do {
                _ = try Threads.start {
                    context.blockingConnection(stop: context.threadStop(pipes), thread: Threads.currentID).serve(socket)
                    finished.post(pthread_self())
                }
                live += 1
            } catch {
                context.logger.error("\(error)")
                socket.close()
            }
        }
        while true {
            let ready = try Waiting.readable([live < bound ? listener.fd : -1, signals.fd, finished.doorbell.readEnd])
            if ready[1], let received = try signals.next() {
                signal = received
                break
            }
            if ready[2] {
                for thread in finished.take() {
                    Threads.join(thread, logger: context.logger)
                    live -= 1
                }
            }
            if ready[0], let socket = try accept() { serveOnNewThread(socket) }
        }
        if signal == SIGQUIT {
            // Raised before the sweep, so the threads it starts finish after one answer.
            pipes.finish.raise()
            while live < bound, let socket = try accept() { serveOnNewThread(socket) }
        }
        return 0
    }
}

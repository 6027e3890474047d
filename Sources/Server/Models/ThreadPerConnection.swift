// ThreadPerConnection: the main thread accepts and starts a new thread for
// each connection; the thread serves it and ends. Cheaper than a fork, but a
// thread (and its stack) per client. A finished thread posts its id
// (FinishedThreads) and the main thread joins it, so the main thread alone
// counts live threads; at --max-threads it stops accepting until one has ended.
// On QUIT it stops accepting, hands what already waits in the queue to threads
// that finish at once, and waits for every thread to complete its request.
import Glibc
import Logging
import ServerSystem

enum ThreadPerConnection {
    static func run(_ context: ModelContext) throws -> Int32 {
        let bound = context.configuration.maxThreads
        let server = try ThreadedServer(context, details: "at most \(bound) threads")
        defer { server.end() }
        // What the threads use, taken out of the server so they share nothing mutable.
        let (pipes, finished) = (server.pipes, server.finished)
        func accept() throws(SystemError) -> Socket? {
            try BlockingAccept.next(from: server.listener, logger: context.logger) { () throws(SystemError) in
                _ = try Waiting.readable([server.signals.fd], timeoutMilliseconds: BlockingAccept.pauseMilliseconds)
            }
        }
        func serveOnNewThread(_ socket: consuming Socket) {
            let handoff = Handoff(socket)
            do {
                _ = try Threads.start {
                    context.blockingConnection(stop: context.threadStop(pipes), thread: Threads.currentID).serve(handoff.take())
                    finished.post(pthread_self())
                }
                server.live += 1
            } catch {
                context.logger.error("\(error)")
                handoff.take().close()
            }
        }
        while true {
            let ready = try Waiting.readable([server.live < bound ? server.listener.fd : -1, server.signals.fd,
                                              server.finished.doorbell.readEnd])
            if ready[1], let received = try server.signals.next() {
                server.stopSignal = received
                break
            }
            if ready[2] {
                for thread in server.finished.take() {
                    Threads.join(thread, logger: context.logger)
                    server.live -= 1
                }
            }
            if ready[0], let socket = try accept() { serveOnNewThread(socket) }
        }
        if server.stopSignal == SIGQUIT {
            // Raised before the sweep, so the threads it starts finish after one answer.
            server.pipes.finish.raise()
            while server.live < bound, let socket = try accept() { serveOnNewThread(socket) }
        }
        return 0
    }
}

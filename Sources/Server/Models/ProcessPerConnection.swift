// ProcessPerConnection: the master accepts, forks a child for the connection,
// closes its copy of the socket and goes back to accept; the child serves the
// one connection and exits. Isolation is total, and every connection pays a
// fork. SIGCHLD arrives through the master's signalfd and is reaped at once;
// at --max-children the master stops accepting until a child exits (the
// kernel's listen queue holds the rest), so a flood cannot fork the machine to death.
// On QUIT the master stops accepting, forks children for what already waits in
// the queue, and passes QUIT on: each child finishes its request and exits, by
// --graceful-timeout; TERM or INT, first or meanwhile, stop them at once.
import CEventPoll
import Glibc
import ServerSystem

enum ProcessPerConnection {
    /// USR1 (reopen the logs) has no log to reopen here, but blocked and read it cannot
    /// kill the server by its default action when an operator's logrotate sends it.
    private static let masterSignals = SignalSet([SIGTERM, SIGINT, SIGQUIT, SIGCHLD, SIGUSR1])

    static func run(_ context: ModelContext) throws -> Int32 {
        let bound = context.configuration.maxChildren
        let listener = try context.start(blocking: masterSignals, details: "at most \(bound) children")
        defer { listener.close() }
        let signals = try SignalDescriptor(masterSignals)
        defer { signals.close() }
        var children = ChildGroup()
        defer { children.stopAll(waitingOn: masterSignals, deadlineMilliseconds: 5000, logger: context.logger) }
        func acceptAndFork() throws(SystemError) -> Bool {
            let pause = { () throws(SystemError) in
                _ = try Waiting.readable([signals.fd], timeoutMilliseconds: BlockingAccept.pauseMilliseconds)
            }
            guard let socket = try BlockingAccept.next(from: listener, logger: context.logger, pause: pause) else { return false }
            if let pid = serveInChild(socket, closing: listener, signals, context) { children.insert(pid) }
            return true
        }
        while true {
            // At the bound the listener is left out of the wait: accept stops, the queue holds the rest.
            let accepting = children.count < bound
            let ready = try Waiting.readable([accepting ? listener.fd : -1, signals.fd])
            if ready[1] {
                switch try receivedStop(signals) {
                case SIGQUIT?:
                    while children.count < bound, try acceptAndFork() {}
                    children.finishAll(signals: signals, deadlineMilliseconds: context.configuration.gracefulTimeout + 2000,
                                       logger: context.logger)
                    return 0
                case _?: return 0
                case nil: children.reapExited()
                }
            }
            if ready[0] { _ = try acceptAndFork() }
        }
    }

    /// Reads every pending signal; the stop signal among them (TERM or INT over QUIT), if any.
    private static func receivedStop(_ signals: SignalDescriptor) throws(SystemError) -> Int32? {
        var stop: Int32? = nil
        while let signal = try signals.next() {
            if signal == SIGCHLD || signal == SIGUSR1 { continue }
            if stop == nil || signal != SIGQUIT { stop = signal }
        }
        return stop
    }

    /// Forks; the child serves `socket` and exits, the parent closes its copy. A failed
    /// fork (EAGAIN, ENOMEM) costs that one connection, not the server.
    private static func serveInChild(_ socket: consuming Socket, closing listener: Listener, _ signals: SignalDescriptor,
                                     _ context: ModelContext) -> pid_t? {
        let masterPID = getpid()
        let pid: pid_t
        do {
            pid = try ChildProcess.fork()
        } catch {
            context.logger.error("\(error)")
            socket.close()
            return nil
        }
        guard pid == 0 else {
            socket.close()
            return pid
        }
        _ = cep_set_parent_death_signal(SIGTERM)
        if getppid() != masterPID { ChildProcess.exitImmediately(0) }
        listener.close()
        signals.close()
        guard let stop = try? context.processStop() else { ChildProcess.exitImmediately(1) }
        context.blockingConnection(stop: stop).serve(socket)
        ChildProcess.exitImmediately(0)
    }
}

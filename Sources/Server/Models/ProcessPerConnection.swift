// ProcessPerConnection: the master accepts, forks a child for the connection,
// closes its copy of the socket and goes back to accept; the child serves the
// one connection and exits. Isolation is total, and every connection pays a
// fork. SIGCHLD arrives through the master's signalfd and is reaped at once;
// at --max-children the master stops accepting until a child exits (the
// kernel's listen queue holds the rest), so a flood cannot fork the machine to death.
import CEventPoll
import Glibc

enum ProcessPerConnection {
    private static let masterSignals = SignalSet([SIGTERM, SIGINT, SIGQUIT, SIGCHLD])

    static func run(_ context: ModelContext) throws -> Int32 {
        let bound = context.configuration.maxChildren
        let listener = try context.start(blocking: masterSignals, details: "at most \(bound) children")
        defer { listener.close() }
        let signals = try SignalDescriptor(masterSignals)
        defer { signals.close() }
        var children = ChildGroup()
        defer { children.stopAll(waitingOn: masterSignals, deadlineMilliseconds: 5000, logger: context.logger) }
        while true {
            // At the bound the listener is left out of the wait: accept stops, the queue holds the rest.
            let accepting = children.count < bound
            let ready = try Waiting.readable([accepting ? listener.fd : -1, signals.fd])
            if ready[1] {
                if try receivedStop(signals) { return 0 }
                children.reapExited()
            }
            if ready[0], let socket = try BlockingAccept.next(from: listener, logger: context.logger) {
                if let pid = serveInChild(socket, closing: [listener.fd, signals.fd], context) { children.insert(pid) }
            }
        }
    }

    /// Reads every pending signal; true if one of them asks to stop.
    private static func receivedStop(_ signals: SignalDescriptor) throws(SystemError) -> Bool {
        var stop = false
        while let signal = try signals.next() {
            if signal != SIGCHLD { stop = true }
        }
        return stop
    }

    /// Forks; the child serves `socket` and exits, the parent closes its copy. A failed
    /// fork (EAGAIN, ENOMEM) costs that one connection, not the server.
    private static func serveInChild(_ socket: Socket, closing inherited: [Int32], _ context: ModelContext) -> pid_t? {
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
        inherited.forEach { _ = close($0) }
        guard let stop = try? SignalDescriptor(ReactorServing.stopSignals) else { ChildProcess.exitImmediately(1) }
        context.blockingConnection(stop: stop.fd).serve(socket)
        ChildProcess.exitImmediately(0)
    }
}

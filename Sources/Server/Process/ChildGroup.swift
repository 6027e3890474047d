// ChildGroup: a master's children: how many are alive, reaping the ones that
// exited, and stopping all of them (SIGTERM, then SIGKILL after a deadline)
// with none left unreaped, or first letting them finish (SIGQUIT) for a
// graceful stop. The process-per-connection master keeps one for its children;
// the supervisor builds one from its workers to stop them, so the TERM -> wait
// -> KILL escalation is written once, here.
import Glibc
import Logging
import ServerSystem

struct ChildGroup {
    private(set) var pids = Set<pid_t>()

    init(_ pids: [pid_t] = []) {
        self.pids = Set(pids)
    }

    var count: Int { pids.count }

    mutating func insert(_ pid: pid_t) {
        pids.insert(pid)
    }

    /// Reaps every child that has exited (waitpid with WNOHANG, in a loop: SIGCHLD
    /// does not queue, so one signal may stand for several exits).
    mutating func reapExited() {
        while let (pid, _) = ChildProcess.reapAny() { pids.remove(pid) }
    }

    /// SIGQUIT to all, then waits (reading the master's signalfd, which carries SIGCHLD)
    /// until all have exited or the deadline passes; a TERM or INT meanwhile ends the
    /// wait. Whoever is left is for `stopAll`.
    mutating func finishAll(signals: SignalDescriptor, deadlineMilliseconds: Int, logger: Logger) {
        for pid in pids { ChildProcess.kill(pid, SIGQUIT, logger: logger) }
        let deadline = Clock.monotonicMilliseconds() + deadlineMilliseconds
        do {
            while true {
                reapExited()
                let remaining = deadline - Clock.monotonicMilliseconds()
                if pids.isEmpty || remaining <= 0 { return }
                _ = try Waiting.readable([signals.fd], timeoutMilliseconds: remaining)
                while let signal = try signals.next() {
                    if signal == SIGTERM || signal == SIGINT { return }
                }
            }
        } catch {
            logger.error("\(error)")
        }
    }

    /// SIGTERM to all; waits for SIGCHLD (blocked in `signals`) until all are reaped
    /// or the deadline passes, then SIGKILLs and reaps whoever is left.
    ///
    /// - Parameters:
    ///   - noun: what the log line calls a child ("worker").
    ///   - secondStopKills: a TERM or INT received during the wait (the operator
    ///     insisting) ends it at once, and whoever is left is killed.
    mutating func stopAll(waitingOn signals: SignalSet, deadlineMilliseconds: Int, noun: String = "child",
                          secondStopKills: Bool = false, logger: Logger) {
        for pid in pids { ChildProcess.kill(pid, SIGTERM, logger: logger) }
        let deadline = Clock.monotonicMilliseconds() + deadlineMilliseconds
        reapExited()
        while !pids.isEmpty {
            let remaining = deadline - Clock.monotonicMilliseconds()
            if remaining <= 0 { break }
            let signal = signals.wait(timeoutMilliseconds: remaining)
            if secondStopKills && (signal == SIGTERM || signal == SIGINT) { break }
            reapExited()
        }
        for pid in pids {
            logger.warning("\(noun) \(pid) did not stop within \(deadlineMilliseconds) ms; killing it")
            ChildProcess.kill(pid, SIGKILL, logger: logger)
            _ = ChildProcess.reap(pid)
        }
        pids.removeAll()
    }
}

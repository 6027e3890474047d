// GracefulShutdown: how the master stops. SIGQUIT (SIGTERM too with
// --graceful-sigterm, or the new master at the end of a binary upgrade) stops
// gracefully: the scoreboard's `draining` flag goes up (so /health and /readyz
// answer 503 and balancers move away; not after an upgrade, since the new
// master serves on), the server keeps serving for --drain-delay (DrainDelay.swift),
// then every worker drains, the master closes its copies of the listeners, and
// it exits once the last worker has, killing any still there after
// --graceful-timeout. SIGTERM or SIGINT, before or during that (a second TERM
// under --graceful-sigterm), stop at once: TERM to every worker, KILL to any
// left after a deadline.
import Glibc
import Logging
import ServerSystem

extension Supervisor {
    func shutDownGracefully(requestedBy sender: pid_t, signal: Int32 = SIGQUIT) {
        if let upgrade, sender == upgrade {
            logger.info("new master \(upgrade) is serving; this master's \(liveWorkerCount) workers finish their requests and exit")
            self.upgrade = nil
        } else {
            scoreboard.setServer(.draining, 1)
            guard waitOutDrainDelay(after: signal) else { return stopNow() }
            logger.info("received \(signalName(signal)), stopping gracefully: \(liveWorkerCount) workers finish their requests (up to \(configuration.gracefulTimeout) ms)")
        }
        stopping = true
        for index in slots.indices {
            // Every slot, filled or not: a slot waiting out a respawn backoff would
            // otherwise make the wait below wake at once, forever (a spin).
            slots[index].respawnAt = nil
            guard let pid = slots[index].pid, let recordIndex = slots[index].recordIndex else { continue }
            retireWorker(pid: pid, recordIndex: recordIndex, slot: index)
            slots[index].pid = nil
        }
        for index in retiring.indices {
            if case .emptyingQueue = retiring[index].phase { beginDraining(&retiring[index]) }
        }
        listeners.forEach { $0.close() }
        listeners = []
        waitForRetiringWorkers()
    }

    /// Reaps retiring workers until none is left; a fast-stop signal cuts the wait short.
    private func waitForRetiringWorkers() {
        while !retiring.isEmpty {
            let signal = Self.signals.wait(timeoutMilliseconds: min(250, millisecondsUntilNextTick()))
            if signal == SIGTERM || signal == SIGINT {
                logger.info("received \(signalName(signal!)) while stopping gracefully; stopping now")
                stopWorkers()
                return
            }
            reapWorkers()
            checkHeartbeats()
            progressRetirements()
            scoreboard.republish()
        }
    }

    /// The fast stop: every worker stopped, the listeners closed.
    func stopNow() {
        stopWorkers()
        listeners.forEach { $0.close() }
        listeners = []
    }

    /// SIGTERM to every worker; whoever has not exited by the deadline (or when a
    /// second stop signal arrives) gets SIGKILL. Every worker is reaped before return.
    func stopWorkers() {
        var workers = ChildGroup(allWorkerPIDs)
        workers.stopAll(waitingOn: Self.signals, deadlineMilliseconds: Self.stopDeadlineMilliseconds, noun: "worker",
                        secondStopKills: true, logger: logger)
        for index in slots.indices { slots[index].pid = nil }
        retiring.removeAll()
    }
}

// Readiness: when the server is ready for a balancer's traffic, decided by the
// master and published in the scoreboard's server record for /readyz.
//
// The server is ready once every slot's first worker has built its handler and
// entered its loop (an embedder's per-worker set-up may take a while). Each worker
// says so in its own record (`serving`); the master reads that report as it reads
// heartbeats, then decides in its ledger and publishes `ready`, which it writes
// over the shared copy at every tick, so no worker can make /readyz say anything
// the master did not decide for longer than a tick. What a report can still do,
// written by another worker, is make the master ready early; a signal to the
// master would name its sender, but under --user a worker may not signal a root
// master (kill(2): EPERM), and a pipe per worker is the channel that would. Readiness is latched: workers
// replaced later (HUP, a crash, TTIN) do not take the server out of rotation
// while the others serve. A graceful stop ends it (`draining`, GracefulShutdown.swift).
import ServerSystem

extension Supervisor {
    /// How often the master looks for workers' reports until the server is ready:
    /// often, since a balancer's first check waits for it.
    static let readinessCheckMilliseconds = 20

    /// Sets `ready` once every slot's worker has reported serving; until then the
    /// master's tick comes at least every `readinessCheckMilliseconds`.
    func updateReadiness() {
        guard scoreboard.ledger[.ready] == 0, !stopping else { return }
        let allServing = slots.allSatisfy { slot in
            guard slot.pid != nil, let recordIndex = slot.recordIndex else { return false }
            return scoreboard.worker(recordIndex)[.serving] == 1
        }
        guard allServing else { return }
        scoreboard.setServer(.ready, 1)
        logger.info("all \(slots.count) workers are serving: ready")
    }

    var readinessTickMilliseconds: Int {
        scoreboard.ledger[.ready] == 0 && !stopping ? Self.readinessCheckMilliseconds : .max
    }
}

extension WorkerContext {
    /// Called by the worker once its handler is built, just before its loop: the
    /// master's readiness waits for this report from every slot.
    func reportServing() {
        record[.serving] = 1
    }
}

// Readiness: when the server is ready for a balancer's traffic, decided by the
// master and published in the scoreboard's server record for /readyz.
//
// The server is ready once every slot's worker has built its handler and is
// about to enter its loop (an embedder's per-worker set-up may take a while).
// Each worker says so over a pipe of its own (ServingReport.swift), not in the
// shared region, which every worker can write: the master decides only from
// what each worker said of itself. It keeps the answer in its ledger and writes
// `ready` over the shared copy at every tick, so no worker can make /readyz say
// what the master did not decide for longer than a tick. Readiness is latched:
// workers replaced later (HUP, a crash, TTIN) do not take the server out of
// rotation while the others serve, and make no report. A graceful stop ends it
// (`draining`, GracefulShutdown.swift).
import Logging
import ServerSystem

extension Supervisor {
    /// How often the master reads the reports until the server is ready: often,
    /// since a balancer's first check waits for it.
    static let readinessCheckMilliseconds = 20

    /// A report pipe for a worker about to be forked, while the server is not ready yet.
    func makeServingReport(recordIndex: Int) throws -> ServingReport? {
        guard scoreboard.ledger[.ready] == 0 else { return nil }
        do {
            return try ServingReport()
        } catch {
            scoreboard.retireRecord(recordIndex)
            throw error
        }
    }

    /// In the forked worker: only its own report's write end stays open; the read
    /// ends of the reports other slots' workers still owe are the master's.
    func keepOnlyWriter(of report: ServingReport?) {
        report?.closeReader()
        for slot in slots { slot.servingReport?.closeReader() }
    }

    /// In the master after the fork: it keeps the read end.
    func awaitReport(_ report: ServingReport?, slot index: Int) {
        report?.closeWriter()
        slots[index].servingReport?.close()
        slots[index].servingReport = report
    }

    func dropReport(slot index: Int) {
        slots[index].servingReport?.close()
        slots[index].servingReport = nil
    }

    /// Reads the reports that have arrived and sets `ready` once every slot's worker serves.
    func updateReadiness() {
        guard scoreboard.ledger[.ready] == 0, !stopping else { return }
        for index in slots.indices {
            guard let report = slots[index].servingReport else { continue }
            switch report.read() {
            case .serving:
                slots[index].serving = true
                dropReport(slot: index)
            case .gone: dropReport(slot: index)
            case .notYet: break
            }
        }
        guard slots.allSatisfy({ $0.pid != nil && $0.serving }) else { return }
        scoreboard.setServer(.ready, 1)
        logger.info("all \(slots.count) workers are serving: ready")
    }

    var readinessTickMilliseconds: Int {
        scoreboard.ledger[.ready] == 0 && !stopping ? Self.readinessCheckMilliseconds : .max
    }
}

extension WorkerContext {
    /// Called by the worker once its handler is built, just before its loop: the
    /// master's readiness waits for this report from every slot's worker.
    func reportServing() {
        servingReport?.send()
    }
}

// RetiringWorker: a worker that no longer fills a slot (replaced by a rolling
// restart, removed by TTOU, or stopping with the server) and is finishing its
// connections. The master keeps its record until it is reaped, and kills it if
// it outlives its drain deadline.
import Glibc
import ServerSystem

struct RetiringWorker {
    enum Phase: Equatable {
        /// SO_REUSEPORT, TTOU: still accepting from its own socket, which receives
        /// nothing new, until the socket's queue has stayed empty a while.
        case emptyingQueue(since: Int, emptySince: Int?)
        /// Told to drain (SIGQUIT); killed if still alive at `killAt`.
        case draining(killAt: Int)
    }

    let pid: pid_t
    let recordIndex: Int
    let slot: Int
    /// SO_REUSEPORT and TTOU: the socket retired with this worker, closed once it is gone.
    let listenerFD: Int32?
    var phase: Phase
}

extension Supervisor {
    /// What a retiring worker gets beyond --graceful-timeout before it is killed: its own
    /// loop closes what is left at the deadline, so only a stuck worker is still there.
    static let drainGraceMilliseconds = 2000

    /// Moves a slot's worker to the retiring list and tells it to drain now.
    func retireWorker(pid: pid_t, recordIndex: Int, slot: Int, listenerFD: Int32? = nil) {
        var worker = RetiringWorker(pid: pid, recordIndex: recordIndex, slot: slot, listenerFD: listenerFD,
                                    phase: .draining(killAt: 0))
        beginDraining(&worker)
        retiring.append(worker)
    }

    func beginDraining(_ worker: inout RetiringWorker) {
        let killAt = Clock.monotonicMilliseconds() + configuration.gracefulTimeout + Self.drainGraceMilliseconds
        worker.phase = .draining(killAt: killAt)
        ChildProcess.kill(worker.pid, SIGQUIT, logger: logger)
    }

    /// Kills retiring workers past their deadline (their loop is stuck), and moves
    /// on those whose socket's queue has emptied.
    func progressRetirements() {
        let now = Clock.monotonicMilliseconds()
        for index in retiring.indices {
            switch retiring[index].phase {
            case .emptyingQueue(let since, let emptySince):
                if let waiting = queueWait(of: retiring[index], since: since, emptySince: emptySince, now: now) {
                    retiring[index].phase = waiting
                } else {
                    beginDraining(&retiring[index])
                }
            case .draining(let killAt):
                guard now >= killAt else { continue }
                logger.warning("retired worker \(retiring[index].pid) is still running \(configuration.gracefulTimeout) ms into its drain; killing it")
                ChildProcess.kill(retiring[index].pid, SIGKILL, logger: logger)
                retiring[index].phase = .draining(killAt: .max)
            }
        }
    }

    /// How soon the master must look at retirements again.
    var retirementCheckMilliseconds: Int {
        if retiring.contains(where: { if case .emptyingQueue = $0.phase { return true } else { return false } }) { return 50 }
        return retiring.isEmpty ? .max : 250
    }
}

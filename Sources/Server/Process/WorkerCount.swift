// WorkerCount: SIGTTIN adds a worker, SIGTTOU removes the newest one (never
// the last). Without SO_REUSEPORT that is all: the shared listener stays.
//
// With SO_REUSEPORT each slot has its own socket, and closing a socket resets
// whatever waits in its queue (unless the kernel's tcp_migrate_req is on, a
// host-wide switch we do not flip). So TTOU first steers new connections away
// from the retiring socket (ReuseportGroup), lets its worker keep accepting
// until the queue has stayed empty, only then tells it to drain, and closes the
// socket once that worker is gone. The group's active sockets are always its
// first `slots.count` members, which is what the steering program selects from.
import Glibc
import ServerSystem

extension Supervisor {
    func addWorker() {
        guard !stopping else { return }
        guard slots.count < ServerConfiguration.maximumWorkers else {
            logger.warning("received SIGTTIN: already at the maximum of \(ServerConfiguration.maximumWorkers) workers")
            return
        }
        let index = slots.count
        if configuration.reusePort && !provideListener(forSlot: index) { return }
        slots.append(WorkerSlot(index: index))
        updateSteering()
        scoreboard.setServer(.workersWanted, UInt64(slots.count))
        do {
            try spawn(index)
        } catch {
            logger.error("cannot start a worker in slot \(index): \(error)")
            slots[index].respawnAt = Clock.monotonicMilliseconds() + WorkerSlot.maximumBackoffMilliseconds
        }
        logger.info("received SIGTTIN: now \(slots.count) workers")
    }

    /// A socket still being retired comes back into service (its retiring worker may
    /// drain at once, the new one takes the queue); otherwise a new one joins the group.
    private func provideListener(forSlot index: Int) -> Bool {
        if listeners.count > index {
            let fd = listeners[index].fd
            for worker in retiring.indices where retiring[worker].listenerFD == fd {
                if case .emptyingQueue = retiring[worker].phase { beginDraining(&retiring[worker]) }
            }
            return true
        }
        do {
            listeners.append(try openListenerSet(like: listeners[0]))
            return true
        } catch {
            logger.error("received SIGTTIN: cannot open a listener for a new worker: \(error)")
            return false
        }
    }

    func removeWorker() {
        guard !stopping else { return }
        guard slots.count > 1 else {
            logger.warning("received SIGTTOU: already at one worker, the minimum")
            return
        }
        if configuration.reusePort && slots[slots.count - 1].pid == nil { startDrainer(inSlot: slots.count - 1) }
        let slot = slots.removeLast()
        scoreboard.setServer(.workersWanted, UInt64(slots.count))
        updateSteering()
        logger.info("received SIGTTOU: now \(slots.count) workers; retiring slot \(slot.index)")
        guard let pid = slot.pid, let recordIndex = slot.recordIndex else {
            closeRetiredListeners()
            return
        }
        if configuration.reusePort {
            let now = Clock.monotonicMilliseconds()
            retiring.append(RetiringWorker(pid: pid, recordIndex: recordIndex, slot: slot.index,
                                           listenerFD: listeners[slot.index].fd,
                                           phase: .emptyingQueue(since: now, emptySince: nil)))
        } else {
            retireWorker(pid: pid, recordIndex: recordIndex, slot: slot.index)
        }
    }

    /// The slot being removed has no worker (it died and waits out its respawn backoff),
    /// yet its socket may hold connections queued for that respawn, which closing it
    /// would reset. So it gets a worker now, retired at once like any other: it accepts
    /// until the queue has stayed empty, then drains. If that fails the socket closes.
    private func startDrainer(inSlot index: Int) {
        do {
            try spawn(index)
        } catch {
            logger.error("cannot start a worker to empty the queue of slot \(index); closing its socket resets what waits there: \(error)")
        }
    }

    /// Closes every retired socket whose worker is gone. The kernel fills a closed
    /// socket's place in the group with the group's last one, so this list does the same.
    func closeRetiredListeners() {
        guard configuration.reusePort, !stopping else { return }
        var index = slots.count
        var closed = false
        while index < listeners.count {
            let fd = listeners[index].fd
            if retiring.contains(where: { $0.listenerFD == fd }) {
                index += 1
                continue
            }
            listeners[index].close()
            listeners.swapAt(index, listeners.count - 1)
            listeners.removeLast()
            closed = true
        }
        if closed { updateSteering() }
    }

    /// Steers new connections to the slots' sockets while others are being retired.
    func updateSteering() {
        guard configuration.reusePort, let first = listeners.first else { return }
        // Also while an old master may hold retiring sockets of the group (BinaryUpgrade.swift).
        guard listeners.count > slots.count || steeredAwayFromOldMaster != nil else {
            ReuseportGroup.stopSteering(first)
            return
        }
        do {
            try ReuseportGroup.steer(first, toFirst: slots.count)
        } catch {
            logger.error("cannot steer connections away from retiring sockets: \(error)")
        }
    }

    /// The socket's queue must stay empty for `queueQuietMilliseconds` (connections
    /// steered here just before still arriving) before its worker may stop accepting;
    /// past --graceful-timeout it is told to drain regardless. Nil: the wait is over.
    func queueWait(of worker: RetiringWorker, since: Int, emptySince: Int?, now: Int) -> RetiringWorker.Phase? {
        let listener = listeners.first { $0.fd == worker.listenerFD }
        let queued = listener.flatMap(ReuseportGroup.queuedConnections) ?? 0
        if now - since >= configuration.gracefulTimeout { return nil }
        if queued > 0 { return .emptyingQueue(since: since, emptySince: nil) }
        guard let emptySince else { return .emptyingQueue(since: since, emptySince: now) }
        if now - emptySince >= Self.queueQuietMilliseconds { return nil }
        return .emptyingQueue(since: since, emptySince: emptySince)
    }

    static let queueQuietMilliseconds = 200
}

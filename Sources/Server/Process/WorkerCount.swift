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
            listeners.append(try openListener(port: listeners[0].port))
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
        guard listeners.count > slots.count else {
            ReuseportGroup.stopSteering(first)
            return
        }
        do {
            try ReuseportGroup.steer(first, toFirst: slots.count)
        } catch {
            logger.error("cannot steer connections away from retiring sockets: \(error)")
        }
    }
}

// BinaryUpgrade: SIGUSR2 replaces the running binary without refusing or
// losing a connection (nginx's USR2, with its last step automated):
//
// 1. The old master renames its pid file to PATH.oldbin, forks, and the child
//    executes the binary at the path the server was started from (the new one,
//    if it was replaced), with the listeners left open across execve and
//    named in SWIFT_PREFORK_LISTENERS (InheritedListeners.swift).
// 2. The new master adopts those sockets (binding nothing), forks its
//    workers, writes PATH, and sends SIGQUIT to the old master.
// 3. The old master sees the QUIT come from its new master and retires its
//    workers gracefully. The sockets never close: the new master holds them,
//    so their queues pass from one generation to the next.
//
// If the new master exits before step 2 ends, the old one logs why, renames
// PATH.oldbin back and serves on: a failed upgrade needs no rollback.
//
// With SO_REUSEPORT, a USR2 during a TTOU hands over only the sockets that stay;
// the old master still holds the one being retired, in the same group. So the
// new master steers new connections to its own sockets (replacing whatever
// program the old binary attached) until the old master has exited, and only
// then hands selection back to the kernel.
import Glibc
import ServerSystem

extension Supervisor {
    func beginUpgrade() {
        guard !stopping else { return }
        if let upgrade {
            logger.warning("received SIGUSR2: ignored, new master \(upgrade) has not taken over yet")
            return
        }
        pidFile?.moveAside()
        // The sockets still being retired stay behind: nothing new reaches them.
        let handedOver = configuration.reusePort ? Array(listeners.prefix(slots.count)) : listeners
        let environment = InheritedListeners.environmentForNewMaster(handedOver, workers: slots.count)
        do {
            let pid = try SingleThreadedFork.fork()
            if pid == 0 {
                for listener in handedOver { try? listener.keepAcrossExec() }
                ChildProcess.execute(executablePath, CommandLine.arguments, adding: environment)
            }
            upgrade = pid
            logger.info("received SIGUSR2: started \(executablePath) as new master \(pid); this master retires once it serves")
        } catch {
            logger.error("received SIGUSR2: cannot start a new master: \(error)")
            pidFile?.moveBack()
        }
    }

    /// In the new master, once its workers run: the old one may go.
    func finishUpgrade(oldMaster: pid_t) {
        logger.info("took over the listeners of master \(oldMaster); asking it to stop gracefully")
        ChildProcess.kill(oldMaster, SIGQUIT, logger: logger)
    }

    /// In a master that adopted its listeners: a steering program left on the group by
    /// an earlier master must not outlive its purpose (nor route by its rules).
    func takeOverSteering(inheritedFrom source: InheritedListeners.Source) {
        guard configuration.reusePort, let first = listeners.first else { return }
        guard case .upgrade(let oldMaster, _) = source else {
            updateSteering()
            return
        }
        // This master's sockets are the group's first members: the old master's
        // retiring ones joined later, and a closing socket is replaced by the last.
        do {
            try ReuseportGroup.steer(first, toFirst: slots.count)
            steeredAwayFromOldMaster = oldMaster
        } catch {
            logger.error("cannot steer connections away from the old master's retiring sockets: \(error)")
        }
    }

    /// Once the old master has exited (this process was re-parented), none of the
    /// group's sockets is its any more: steering ends unless a TTOU of ours needs it.
    func releaseSteeringOnceOldMasterIsGone() {
        guard let oldMaster = steeredAwayFromOldMaster, getppid() != oldMaster else { return }
        steeredAwayFromOldMaster = nil
        updateSteering()
    }

    /// The new master died before taking over: this one keeps serving.
    func upgradeFailed(_ status: ExitStatus) {
        logger.error("binary upgrade failed: new master \(upgrade ?? 0) exited (\(status)); this master keeps serving")
        upgrade = nil
        pidFile?.moveBack()
    }
}

// RollingRestart: SIGHUP. Every slot gets a fresh worker first, and only then
// is the old one told to drain, so some worker accepts at every moment. With
// SO_REUSEPORT the fresh worker takes over the very socket (and queue) the old
// one served; the master holds it throughout, so nothing queued is ever reset.
import Glibc
import TLS
extension Supervisor {
    func restartWorkers() {
        guard !stopping else { return }
        scoreboard.addServer(.restarts, 1)
        // Before the fresh workers fork, so that they serve the files as they are now.
        tls?.reload(logger: logger)
        publishTLSFileBodyPath()
        var replaced: [(slot: Int, pid: pid_t, recordIndex: Int)] = []
        for index in slots.indices {
            guard let pid = slots[index].pid, let recordIndex = slots[index].recordIndex else { continue }
            do {
                try spawn(index)
                replaced.append((index, pid, recordIndex))
            } catch {
                logger.error("rolling restart: cannot start a fresh worker in slot \(index), keeping worker \(pid): \(error)")
            }
        }
        for old in replaced { retireWorker(pid: old.pid, recordIndex: old.recordIndex, slot: old.slot) }
        logger.info("received SIGHUP: started \(replaced.count) fresh workers; the old ones finish their requests and exit")
    }

    /// What /metrics shows as prefork_tls_file_body_path: the context the next workers serve with.
    func publishTLSFileBodyPath() {
        guard let path = tls?.current.fileBodyPath else { return }
        scoreboard.setServer(.tlsFileBodyPath, path == .kernelSendfile ? 2 : 1)
    }
}

// How the master signals a child: a failure to (EPERM: the pid is no longer a
// process it may signal) means the signal went nowhere, which the operator
// should hear about, so it is logged rather than thrown at the caller.
import Glibc
import Logging
import ServerSystem

extension ChildProcess {
    static func kill(_ pid: pid_t, _ signal: Int32, logger: Logger) {
        do {
            try kill(pid, signal)
        } catch {
            logger.warning("\(error)")
        }
    }
}

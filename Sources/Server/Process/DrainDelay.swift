// DrainDelay: the first part of a graceful stop under --drain-delay. A balancer
// learns that an instance is leaving only from its health checks, which take a
// few intervals to agree; an instance that stopped accepting at once would
// refuse (or leave unanswered) the connections the balancer still sends it in
// that time, and with the balancer's retries off each is a failed request. So
// for the delay the server serves on as before, every worker accepting, while
// `draining` (raised by the caller) makes /readyz and /health answer 503; then
// the stop proceeds. Kubernetes needs the same wait, for its endpoints to drop
// the pod, which is what a preStop `sleep` usually buys.
//
// During the delay a second SIGQUIT (or SIGTERM under --graceful-sigterm, if the
// first stop was a QUIT) cuts it short: the graceful stop begins at once. SIGINT,
// and SIGTERM otherwise, stop at once. USR1 still reopens the logs; HUP, TTIN,
// TTOU and USR2 are ignored, since the server is leaving.
import Glibc
import ServerSystem

extension Supervisor {
    /// Serves on for --drain-delay; false when a fast stop was asked for meanwhile.
    func waitOutDrainDelay(after first: Int32) -> Bool {
        let delay = configuration.drainDelay
        guard delay > 0 else { return true }
        logger.info("received \(signalName(first)), draining: /readyz answers 503; serving \(delay) ms more before stopping gracefully")
        let endsAt = Clock.monotonicMilliseconds() + delay
        while case let now = Clock.monotonicMilliseconds(), now < endsAt {
            let signal = Self.signals.wait(timeoutMilliseconds: min(endsAt - now, millisecondsUntilNextTick()))
            switch signal {
            case SIGQUIT?:
                logger.info("received SIGQUIT during the drain delay; stopping gracefully now")
                return true
            case SIGTERM? where configuration.gracefulSigterm && first == SIGQUIT:
                logger.info("received SIGTERM during the drain delay; stopping gracefully now")
                return true
            case SIGTERM?, SIGINT?:
                logger.info("received \(signalName(signal!)) during the drain delay; stopping \(liveWorkerCount) workers now")
                return false
            case SIGUSR1?: reopenLogs()
            case SIGHUP?, SIGTTIN?, SIGTTOU?, SIGUSR2?:
                logger.notice("ignoring \(signalName(signal!)) during the drain delay: the server is stopping")
            default: break
            }
            tick()
        }
        return true
    }
}

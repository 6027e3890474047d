// TLSCertificates: the master's loaded TLS context, which HUP replaces, and
// the session ticket keys, which outlive it. The rolling restart
// (RollingRestart.swift) forks fresh workers, which inherit whatever context is
// current at their fork; so a HUP re-reads the certificate and key files first,
// and a file that no longer loads (a half-copied renewal, an expired
// certificate) leaves the running context in place with one error line: the
// server keeps serving what it served. Tickets issued before the reload still
// resume after it: the keys live in shared memory, rotated by the master.
import Logging
import TLS

final class TLSCertificates {
    private let pairs: [TLSCertificatePair]
    /// What the next forked worker serves with.
    private(set) var current: TLSContext
    private let ticketKeys: TLSTicketKeys

    /// Maps the ticket keys (before any fork) and installs them in `context`.
    init(_ context: TLSContext, ticketKeyRotationSeconds: Int) throws(SystemError) {
        pairs = context.pairs
        current = context
        ticketKeys = try TLSTicketKeys(rotationMilliseconds: ticketKeyRotationSeconds * 1000)
        ticketKeys.install(in: context)
    }

    /// A new ticket key once the period is over (the master's tick); true when it rotated.
    func rotateTicketKeysIfDue(now: Int, logger: Logger) -> Bool {
        switch ticketKeys.rotateIfDue(now: now) {
        case .notDue: return false
        case .rotated: return true
        case .failed:
            logger.error("RAND_bytes failed: the session ticket key was not rotated")
            return false
        }
    }

    /// Reads the files again; on failure keeps `current` and says why in one line.
    func reload(logger: Logger) {
        do {
            let reloaded = try TLSContext.load(pairs)
            ticketKeys.install(in: reloaded)
            current = reloaded
            logger.info("received SIGHUP: TLS certificates reloaded")
        } catch {
            logger.error("received SIGHUP: TLS certificates not reloaded, serving the previous ones: \(error)")
        }
    }
}

// TLSCertificates: the master's loaded TLS context, which HUP replaces. The
// rolling restart (RollingRestart.swift) forks fresh workers, which inherit
// whatever context is current at their fork; so a HUP re-reads the certificate
// and key files first, and a file that no longer loads (a half-copied renewal,
// an expired certificate) leaves the running context in place with one error
// line: the server keeps serving what it served.
import Logging
import TLS

final class TLSCertificates {
    private let pairs: [TLSCertificatePair]
    /// What the next forked worker serves with.
    private(set) var current: TLSContext

    init(_ context: TLSContext) {
        pairs = context.pairs
        current = context
    }

    /// Reads the files again; on failure keeps `current` and says why in one line.
    func reload(logger: Logger) {
        do {
            current = try TLSContext.load(pairs)
            logger.info("received SIGHUP: TLS certificates reloaded")
        } catch {
            logger.error("received SIGHUP: TLS certificates not reloaded, serving the previous ones: \(error)")
        }
    }
}

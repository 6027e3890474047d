// TLSTicketKeys: the keys that encrypt session tickets (RFC 5077, RFC 8446
// §4.6.1), in memory the master maps before it forks, so every worker (and
// every worker forked later, after a HUP reload too) opens a ticket another
// issued. The master rotates them on a schedule: the current key encrypts, the
// previous one still decrypts (the client gets a fresh ticket), older tickets
// cost a full handshake. A key thus protects tickets for at most two periods,
// which bounds what a stolen worker memory image could decrypt.
import CTLS
import Glibc
import ServerSystem

/// The shared ticket keys and their rotation.
package final class TLSTicketKeys: @unchecked Sendable {
    /// How long a key is the current one (--tls-ticket-key-rotation).
    package let rotationMilliseconds: Int

    private let region: UnsafeMutableRawPointer
    /// Monotonic milliseconds of the next rotation.
    private var nextRotation: Int

    /// Maps the region and makes the first key.
    package init(rotationMilliseconds: Int, now: Int = Clock.monotonicMilliseconds()) throws(SystemError) {
        self.rotationMilliseconds = rotationMilliseconds
        region = try SharedMemory.mapAnonymous(byteCount: ctls_ticket_keys_size())
        nextRotation = now + rotationMilliseconds
        guard ctls_ticket_keys_rotate(region) == 1 else {
            throw SystemError(call: "RAND_bytes(ticket key)", errno: EIO)
        }
    }

    /// Makes every context of `context` use these keys.
    package func install(in context: TLSContext) {
        for ssl in context.contexts { ctls_ctx_use_ticket_keys(ssl, region) }
    }

    /// What the master's tick did to the keys.
    package enum Rotation {
        case notDue, rotated
        /// OpenSSL's random generator failed, which leaves the keys as they were.
        case failed
    }

    /// A fresh current key once the period is over (the master's tick).
    package func rotateIfDue(now: Int) -> Rotation {
        guard now >= nextRotation else { return .notDue }
        nextRotation = now + rotationMilliseconds
        return ctls_ticket_keys_rotate(region) == 1 ? .rotated : .failed
    }
}

// MinimumBodyRate: the slowest a request body may arrive. The body timeout
// bounds a pause, but every byte restarts it, so a body trickled at one byte
// every nine seconds would hold a connection for days. Past a grace period
// from the end of the head, the body must have averaged this rate since then,
// or it gets 408 and the connection closes: Kestrel's MinRequestBodyDataRate,
// whose default (240 bytes/s after 5 s) this shares.
import ServerSystem

/// The least average rate of a request body, enforced after a grace period.
public struct MinimumBodyRate: Sendable, Equatable {
    /// Bytes per second a body must average once the grace period is over; 0 turns the check off.
    public var bytesPerSecond: Int
    /// How long after a request's head has arrived the rate starts to apply (ms).
    public var graceMilliseconds: Int

    public init(bytesPerSecond: Int = 240, graceMilliseconds: Int = 5000) {
        self.bytesPerSecond = bytesPerSecond
        self.graceMilliseconds = graceMilliseconds
    }

    var isOn: Bool { bytesPerSecond > 0 }

    /// Whether `bytes` of body in the `elapsedMilliseconds` since the head arrived fall
    /// short. In floating point, so no rate or duration a flag allows can overflow it.
    func isViolated(bytes: Int, elapsedMilliseconds: Int) -> Bool {
        guard isOn, elapsedMilliseconds > graceMilliseconds else { return false }
        return Double(bytes) * 1000 < Double(bytesPerSecond) * Double(elapsedMilliseconds)
    }
}

extension MinimumBodyRate {
    /// Whether the body of `connection`'s request, `bodyBytes` of it in so far, falls short
    /// at `now` (monotonic ms). Called as its bytes come in (only then does anything change):
    /// the first call starts the clock. A client that sends nothing at all meets the body timeout instead.
    func isViolated<T: Transport & ~Copyable>(on connection: Connection<T>, bodyBytes: Int, now: @autoclosure () -> Int) -> Bool {
        guard isOn else { return false }
        let now = now()
        guard connection.bodyClockRequest == connection.requestsServed else {
            connection.bodyClockRequest = connection.requestsServed
            connection.bodyClockStart = now
            return false
        }
        return isViolated(bytes: bodyBytes, elapsedMilliseconds: now - connection.bodyClockStart)
    }
}

// TransportReadiness: folds what a connection's transport waits for on its own
// account (Transport.awaitedReadiness: TLS's read that needs the socket
// writable, or its write that needs it readable) into the readiness the event
// loop and the blocking models wait for, and routes the event that satisfies it
// back to the call that was blocked. For a plain socket the transport never
// waits on its own, and all of this specialises away to the phase's interest
// and the event's own direction.
import ServerSystem

extension Connection where T: ~Copyable {
    /// The readiness to wait for: the phase's, unless the transport's last blocked call needs another.
    var wantedInterest: Interest { interestOfPhase.folding(transport.awaitedReadiness) }

    /// The phase's interest; while a handler works and earlier answers still wait for the client,
    /// writability: they go out as the socket takes them. (The handling interest alone, EPOLLRDHUP in
    /// level mode, left them queued until the answer came, and a client that half-closed meanwhile
    /// was reported on every wait with nothing to do: the worker spun.)
    private var interestOfPhase: Interest {
        phase == .handling && output != nil ? .write : phase.interest
    }
}

extension Interest {
    /// This interest with a transport's own wait in its place. A connection that waits for
    /// neither (a deferred handler has its request) does no I/O, so keeps waiting for neither.
    func folding(_ readiness: Readiness?) -> Interest {
        guard let readiness, self != .none && self != .paused else { return self }
        return readiness == .readable ? .read : .write
    }
}

extension ReadyEvent {
    /// Whether this event lets pending output go on: the socket is writable, or it is
    /// readable and that is what the transport's blocked write waits for.
    @inline(__always)
    func letsWrite<T: Transport & ~Copyable>(_ transport: borrowing T) -> Bool {
        isWritable || (transport.awaitedReadiness == .readable && isReadable)
    }

    /// Whether this event lets reading go on: the socket is readable, or it is writable
    /// and that is what the transport's blocked read waits for.
    @inline(__always)
    func letsRead<T: Transport & ~Copyable>(_ transport: borrowing T) -> Bool {
        isReadable || (transport.awaitedReadiness == .writable && isWritable)
    }
}

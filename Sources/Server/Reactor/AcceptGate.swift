// AcceptGate: when a worker's listener belongs in its epoll set. It comes out
// while the worker holds --max-connections (the kernel's queue keeps the rest,
// and no established connection is closed to make room), for a short pause
// after the process runs out of descriptors, which would otherwise make a
// level-triggered listener report the same connection forever, and, on a
// listener shared by several workers, while this worker holds more than its
// fair share of the connections (see `AcceptBalance`).
import CEventPoll
import Glibc
import Logging
import ServerSystem

struct AcceptGate {
    /// The worker's listeners (one per `--listen`); the gate opens and closes them together.
    let listeners: ListenerSet
    /// The first listener: the only one unless `--listen` gave several.
    var listener: Listener { listeners.members[0] }
    /// Whether the first listener's connections start with a PROXY header.
    let firstIsProxied: Bool
    private let events: UInt32
    private let maxConnections: Int
    private let balance: AcceptBalance?
    private var registered = false
    /// This turn's bound from the balance: connections this worker may hold before it lets others accept.
    private var shareLimit = Int.max
    private var balanceCheckedAt: Int?
    /// How stale the share limit may get. A stale limit only errs towards caution:
    /// it grows as other workers take connections.
    static let balanceRefreshMilliseconds = 5
    /// When accepting may resume after running out of descriptors.
    private(set) var reopensAt: Int?
    /// Set for good when the worker drains: the listener never comes back.
    private var stopped = false
    /// One log line per burst of descriptor exhaustion, not one per attempt.
    private var exhaustionLogged = false

    /// How long accepting pauses after EMFILE, ENFILE, ENOBUFS, ENOMEM or an unexpected error.
    static let exhaustionPauseMilliseconds = 100

    init(listeners: ListenerSet, events: UInt32, maxConnections: Int, balance: AcceptBalance?) {
        self.listeners = listeners
        firstIsProxied = listeners.addresses[0].proxyProtocol
        self.events = events
        self.maxConnections = maxConnections
        self.balance = balance
    }

    mutating func open(in epoll: Epoll) throws(SystemError) {
        try addListeners(to: epoll)
        registered = true
    }

    /// The first listener under the token it always had; the others under their own (ReservedToken.listener(at:)).
    private func addListeners(to epoll: Epoll) throws(SystemError) {
        for (index, member) in listeners.members.enumerated() {
            try epoll.add(member.fd, events: events, token: ReservedToken.listener(at: index))
        }
    }

    /// Whether another connection may be accepted now.
    func admits(openConnections: Int) -> Bool {
        !stopped && registered && reopensAt == nil && openConnections < min(maxConnections, shareLimit)
    }

    mutating func acceptSucceeded() {
        exhaustionLogged = false
    }

    mutating func acceptFailed(_ error: SystemError, now: Int, epoll: Epoll, logger: Logger) {
        switch error.errno {
        case EMFILE, ENFILE, ENOBUFS, ENOMEM:
            if !exhaustionLogged {
                logger.warning("\(error); pausing accept for \(Self.exhaustionPauseMilliseconds) ms at a time until it recovers")
                exhaustionLogged = true
            }
            pause(now: now, epoll: epoll, logger: logger)
        default:
            // Unexpected, and perhaps lasting: a level-triggered listener would report it
            // again at once (a spin), and an edge-triggered one would not report the
            // connections behind it until the next arrives. Re-registering after the
            // pause reports whatever is queued by then, in either mode.
            logger.error("\(error); pausing accept for \(Self.exhaustionPauseMilliseconds) ms")
            pause(now: now, epoll: epoll, logger: logger)
        }
    }

    private mutating func pause(now: Int, epoll: Epoll, logger: Logger) {
        reopensAt = now + Self.exhaustionPauseMilliseconds
        setRegistered(false, epoll: epoll, logger: logger)
    }

    /// Takes the listener out of the epoll set for good (a graceful drain).
    mutating func stop(epoll: Epoll, logger: Logger) {
        setRegistered(false, epoll: epoll, logger: logger)
        stopped = true
    }

    /// Once per loop turn: takes the listener out of, or puts it back into, the epoll set.
    mutating func update(openConnections: Int, now: Int, epoll: Epoll, logger: Logger) {
        if stopped { return }
        if let reopensAt, now >= reopensAt { self.reopensAt = nil }
        if let balance, now - (balanceCheckedAt ?? .min / 2) >= Self.balanceRefreshMilliseconds {
            // Other workers' records live in their cache lines: read them every few ms, not every turn.
            balanceCheckedAt = now
            shareLimit = balance.limit()
        }
        setRegistered(reopensAt == nil && openConnections < min(maxConnections, shareLimit), epoll: epoll, logger: logger)
    }

    /// While the balance keeps this worker out, it looks again this often even if
    /// nothing else wakes it, so a stalled peer cannot leave the queue unserved.
    static let balanceRecheckMilliseconds = 50

    /// The next time the loop must wake to reconsider the listener, if any.
    func recheckAt(now: Int) -> Int? {
        if stopped { return nil }
        if let reopensAt { return reopensAt }
        return registered || shareLimit == .max ? nil : now + Self.balanceRecheckMilliseconds
    }

    private mutating func setRegistered(_ wanted: Bool, epoll: Epoll, logger: Logger) {
        guard wanted != registered else { return }
        do {
            // Adding a listener that already has queued connections reports it ready at once.
            if wanted {
                try addListeners(to: epoll)
            } else {
                for member in listeners.members { try epoll.remove(member.fd) }
            }
            registered = wanted
        } catch {
            logger.error("\(error)")
        }
    }
}

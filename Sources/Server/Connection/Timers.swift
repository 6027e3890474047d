// Per-connection timeouts driven by the event loop itself: no thread and no
// timerfd per connection. Every kind of timeout has one fixed duration, so the
// order in which deadlines of one kind are set is the order in which they
// expire: a FIFO list per kind gives O(1) arm, disarm and next-expiry, and the
// earliest head bounds epoll_wait's timeout.
import ServerSystem

/// What a connection is waiting for, and so which timeout guards it.
enum Timeout: Int, CaseIterable {
    /// A request has started (or the connection was just accepted) and its header block is incomplete.
    case header
    /// The head has arrived and the body is still coming.
    case body
    /// Idle between requests on a keep-alive connection.
    case keepAlive
    /// Responses are waiting for the client to read them.
    case write
    /// Closing: the write side is shut and what the client still sends is drained.
    case linger
    /// A deferred handler has the request and has not answered yet.
    case handling
}

/// How long, in milliseconds, a connection may wait for each thing.
public struct TimeoutDurations: Equatable, Sendable {
    /// To receive a whole header block, from the request's first byte (or the accept).
    /// A client past it gets 408: the defence against slowloris.
    public var header = 10_000
    /// Between reads of a request body; past it, 408.
    public var body = 10_000
    /// Idle between requests; past it the connection closes quietly.
    public var keepAlive = 5_000
    /// Between writes of pending responses to a client that does not read them.
    public var write = 10_000
    /// To drain a client after the final response, before closing (lingering close).
    public var linger = 2_000
    /// For a deferred handler to answer, from when it takes the request. Past it the
    /// client gets 503 (or, when nothing can be sent any more, the connection closes).
    public var handling = 60_000

    public init() {}

    func milliseconds(_ timeout: Timeout) -> Int {
        switch timeout {
        case .header: return header
        case .body: return body
        case .keepAlive: return keepAlive
        case .write: return write
        case .linger: return linger
        case .handling: return handling
        }
    }
}

/// Deadlines of one duration, oldest first, linked through the connections
/// themselves. The links are unmanaged: the connection table owns the
/// connections, and following a link costs no retain or release (this runs
/// after every response).
struct DeadlineList<T: Transport & ~Copyable> {
    let duration: Int
    private(set) var first: Unmanaged<Connection<T>>?
    private var last: Unmanaged<Connection<T>>?

    init(duration: Int) {
        self.duration = duration
    }

    var firstDeadline: Int? { first?._withUnsafeGuaranteedRef { $0.deadline } }

    mutating func append(_ connection: Connection<T>, now: Int) {
        let entry = Unmanaged.passUnretained(connection)
        connection.deadline = now + duration
        connection.timerPrevious = last
        connection.timerNext = nil
        if let last { last._withUnsafeGuaranteedRef { $0.timerNext = entry } } else { first = entry }
        last = entry
    }

    mutating func remove(_ connection: Connection<T>) {
        let previous = connection.timerPrevious
        let next = connection.timerNext
        if let previous { previous._withUnsafeGuaranteedRef { $0.timerNext = next } } else { first = next }
        if let next { next._withUnsafeGuaranteedRef { $0.timerPrevious = previous } } else { last = previous }
        connection.timerPrevious = nil
        connection.timerNext = nil
    }
}

/// One deadline list per kind of timeout. A connection is on at most one list.
///
/// The event loop disarms a connection's timer before it drops the connection
/// from its table, so no list ever links to a connection that is gone.
final class ConnectionTimers<T: Transport & ~Copyable> {
    /// One list per Timeout case, indexed by its raw value. Fixed storage rather than an
    /// array: a mutation after every response would otherwise check the array's uniqueness
    /// and its bounds.
    private let lists: UnsafeMutableBufferPointer<DeadlineList<T>>

    init(_ durations: TimeoutDurations) {
        lists = .allocate(capacity: Timeout.allCases.count)
        _ = lists.initialize(from: Timeout.allCases.map { DeadlineList(duration: durations.milliseconds($0)) })
    }

    deinit {
        lists.deinitialize().deallocate()
    }

    /// Starts (or restarts) `timeout` for the connection, replacing whatever it had.
    func arm(_ connection: Connection<T>, _ timeout: Timeout, now: Int) {
        disarm(connection)
        connection.timeout = timeout
        lists[timeout.rawValue].append(connection, now: now)
    }

    /// Sets the timeout that the connection's phase calls for, after it was served,
    /// starting its deadline afresh only as TimerRules say.
    func rearm(_ connection: Connection<T>, now: Int) {
        let timeout = connection.phase.timeout
        if TimerRules.restarts(timeout, on: connection) { arm(connection, timeout, now: now) }
    }

    func disarm(_ connection: Connection<T>) {
        guard let timeout = connection.timeout else { return }
        lists[timeout.rawValue].remove(connection)
        connection.timeout = nil
    }

    /// The earliest deadline of all, if any connection has one.
    var nextDeadline: Int? {
        var earliest: Int?
        for index in lists.indices {
            if let deadline = lists[index].firstDeadline, deadline < earliest ?? Int.max { earliest = deadline }
        }
        return earliest
    }

    /// A connection whose deadline has passed, or nil when none has.
    func firstExpired(now: Int) -> Connection<T>? {
        for index in lists.indices {
            if let deadline = lists[index].firstDeadline, deadline <= now { return lists[index].first?.takeUnretainedValue() }
        }
        return nil
    }
}

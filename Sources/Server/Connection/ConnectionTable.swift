// ConnectionTable: a worker's open connections, indexed by descriptor. Each
// slot has a generation, packed with the fd into the epoll token, so an event
// that was queued for a connection closed earlier in the same batch (whose fd
// may already belong to a new connection) is recognised and dropped.
import ServerSystem

/// Tokens that are not connections: the listener and the signalfd.
enum ReservedToken {
    static let listener = UInt64(UInt32.max) << 32
    static let signals = UInt64(UInt32.max) << 32 | 1
    /// The eventfd through which deferred handler work reports its answers.
    static let completions = UInt64(UInt32.max) << 32 | 2

    /// The token of the worker's listener number `index`: the first keeps `listener`, the
    /// others carry their number above the low 16 bits (no connection's generation is UInt32.max).
    static func listener(at index: Int) -> UInt64 { listener | UInt64(index) << 16 }

    /// The listener number of a reserved listener token other than the first's, or nil.
    static func extraListenerIndex(_ token: UInt64) -> Int? {
        guard token >> 32 == UInt64(UInt32.max), token & 0xFFFF == 0, token != listener else { return nil }
        return Int(token >> 16 & 0xFFFF)
    }
}

struct ConnectionTable<T: Transport & ~Copyable> {
    private var slots: [Connection<T>?] = []
    private var generations: [UInt32] = []
    private(set) var count = 0

    /// Registers a new connection for `transport` and returns it.
    mutating func insert(_ transport: consuming T) -> Connection<T> {
        let index = Int(transport.fd)
        if index >= slots.count {
            let newCount = max(index + 1, slots.count * 2, 64)
            slots += repeatElement(nil, count: newCount - slots.count)
            generations += repeatElement(0, count: newCount - generations.count)
        }
        precondition(slots[index] == nil, "descriptor \(index) is already in the connection table")
        let generation = Self.nextGeneration(after: generations[index])
        generations[index] = generation
        let connection = Connection(transport: transport, token: UInt64(generation) << 32 | UInt64(UInt32(index)))
        slots[index] = connection
        count += 1
        return connection
    }

    /// The live connection an epoll token refers to, or nil if it has since been closed.
    func connection(for token: UInt64) -> Connection<T>? {
        let index = Int(UInt32(truncatingIfNeeded: token))
        guard index < slots.count, let connection = slots[index], connection.token == token else { return nil }
        return connection
    }

    /// Forgets the connection; the caller closes its transport.
    mutating func remove(_ connection: Connection<T>) {
        let index = Int(connection.transport.fd)
        precondition(slots[index] === connection, "removing a connection that is not in the table")
        slots[index] = nil
        count -= 1
    }

    /// Every open connection, for shutdown.
    var all: [Connection<T>] { slots.compactMap { $0 } }

    /// Generations run 1 ..< UInt32.max; 0 is never issued and UInt32.max marks reserved tokens.
    private static func nextGeneration(after generation: UInt32) -> UInt32 {
        generation >= UInt32.max - 1 ? 1 : generation + 1
    }
}

// InheritedListenerSets: inherited sockets (socket activation, a binary upgrade)
// grouped into the sets workers serve. With `--host`/`--port` alone every
// inherited socket is a set of one, as before listeners could be several. With
// `--listen`, a binary upgrade says which sockets form each set; sockets passed
// by socket activation are matched to listeners by the address they are bound
// to (systemd passes them in its unit's order, which need not be ours).
import ServerSystem

extension ListenerSet {
    static func sets(inheritedFrom inherited: InheritedListeners, configuration: ServerConfiguration) throws -> [ListenerSet] {
        try limitingUnsentRecords(of: grouped(inherited, configuration: configuration), to: configuration.tlsUnsentLimit)
    }

    private static func grouped(_ inherited: InheritedListeners, configuration: ServerConfiguration) throws -> [ListenerSet] {
        let addresses = configuration.listenAddresses
        guard !configuration.listen.isEmpty else {
            return inherited.listeners.map { ListenerSet(members: [$0], addresses: addresses) }
        }
        do {
            if let sets = inherited.sets {
                return try sets.map { (indices: [Int]) throws -> ListenerSet in
                    guard indices.count == addresses.count else {
                        throw ConfigurationError("the old master passed \(indices.count) listeners per worker, this one has \(addresses.count) --listen")
                    }
                    return ListenerSet(members: indices.map { inherited.listeners[$0] }, addresses: addresses)
                }
            }
            return try matchedByAddress(inherited.listeners, addresses)
        } catch {
            inherited.listeners.forEach { $0.close() }
            throw error
        }
    }

    /// Each socket goes to the listener with its address (an exact port before a `:0` one);
    /// every listener must get the same number of sockets, which is the number of sets.
    private static func matchedByAddress(_ sockets: [Listener], _ addresses: [ListenAddress]) throws -> [ListenerSet] {
        var matched = Array(repeating: [Listener](), count: addresses.count)
        for socket in sockets {
            let bound = try SocketEndpoint.local(of: socket.fd)
            let candidates = addresses.indices.filter { addresses[$0].matches(host: bound.host, port: bound.port) }
            guard let index = candidates.first(where: { addresses[$0].port == bound.port })
                    ?? candidates.min(by: { matched[$0].count < matched[$1].count }) else {
                throw ConfigurationError("socket activation passed a socket on \(Address.display(host: bound.host, port: bound.port)), which no --listen names")
            }
            matched[index].append(socket)
        }
        for (index, address) in addresses.enumerated() where matched[index].count != matched[0].count || matched[index].isEmpty {
            throw ConfigurationError("socket activation passed \(matched[index].count) sockets for --listen \(address), \(matched[0].count) for --listen \(addresses[0]): every listener needs as many")
        }
        return (0..<matched[0].count).map { slot in ListenerSet(members: matched.map { $0[slot] }, addresses: addresses) }
    }
}

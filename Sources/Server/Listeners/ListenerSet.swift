// ListenerSet: the sockets one worker accepts from, one per configured listener
// (`--listen`, or `--host`/`--port` alone), in the configuration's order. Without
// SO_REUSEPORT every worker shares the master's one set; with it, the master
// opens a set per worker slot, each member joining its listener's reuseport
// group. The master's bookkeeping (retiring a slot's sockets, steering, handing
// them to a new master) works on whole sets, so every listener follows its slot.
import ServerSystem

final class ListenerSet {
    /// One socket per listener, in the order of `addresses`.
    let members: [Listener]
    let addresses: [ListenAddress]

    init(members: [Listener], addresses: [ListenAddress]) {
        precondition(members.count == addresses.count && !members.isEmpty, "one socket per listener")
        self.members = members
        self.addresses = addresses
    }

    /// A set of one plain listener (the single-listener models, tests).
    convenience init(_ listener: Listener) {
        self.init(members: [listener], addresses: [ListenAddress(host: "", port: listener.port)])
    }

    /// The first member's descriptor: what the master's bookkeeping knows a set by.
    var fd: Int32 { members[0].fd }
    var port: Int { members[0].port }

    /// Opens one socket per address; `like` gives the ports an earlier set got (for port 0
    /// and SO_REUSEPORT, the new sockets join that set's groups).
    /// - Parameter ipv6Only: IPv6 sockets take no IPv4 connections (`--listen`'s rule, as nginx's
    ///   `ipv6only=on`); `--host ::` keeps the kernel's dual-stack default.
    /// - Parameter tlsUnsentLimit: see `limitUnsentRecords(to:)`.
    static func open(_ addresses: [ListenAddress], like earlier: ListenerSet?, backlog: Int32,
                     reusePort: Bool, ipv6Only: Bool, tlsUnsentLimit: Int) throws(SystemError) -> ListenerSet {
        var opened: [Listener] = []
        do {
            for (index, address) in addresses.enumerated() {
                let port = earlier?.members[index].port ?? address.port
                opened.append(try Listener.open(host: address.host, port: port, backlog: backlog, reusePort: reusePort,
                                                ipv6Only: ipv6Only))
            }
        } catch {
            opened.forEach { $0.close() }
            throw error
        }
        return try limitingUnsentRecords(of: [ListenerSet(members: opened, addresses: addresses)], to: tlsUnsentLimit)[0]
    }

    /// `sets`, each with `limitUnsentRecords(to: bytes)` done; if one fails, every set is closed
    /// (opened or inherited, their sockets are the caller's only once this returns).
    static func limitingUnsentRecords(of sets: [ListenerSet], to bytes: Int) throws(SystemError) -> [ListenerSet] {
        do {
            for set in sets { try set.limitUnsentRecords(to: bytes) }
        } catch {
            sets.forEach { $0.close() }
            throw error
        }
        return sets
    }

    /// A TLS connection keeps at most `bytes` of records unsent in its socket
    /// (`--tls-notsent-lowat`, set on the listener for the sockets it accepts; 0: the kernel's
    /// default, no limit). Without it the socket takes records as fast as they are made, up to
    /// its send buffer (4 MiB by default, tcp_wmem), while a slower client drains them: kernel
    /// memory per download of encrypted bytes that no other connection can share, and, when the
    /// client opens its window, the sending is done in whatever context processes its ACK (on
    /// loopback, the client's own read). With it the worker encrypts little more than the
    /// network takes and sends it itself. Plain listeners keep the default: `sendfile` queues
    /// page-cache pages, not copies.
    func limitUnsentRecords(to bytes: Int) throws(SystemError) {
        // Set even when 0: a socket inherited from a binary upgrade or systemd keeps what was set before.
        for (member, address) in zip(members, addresses) where address.tls {
            try member.limitUnsentBytes(to: Int32(clamping: bytes))
        }
    }

    func close() { members.forEach { $0.close() } }

    func keepAcrossExec() throws(SystemError) {
        for member in members { try member.keepAcrossExec() }
    }

    /// "127.0.0.1:41234, [::1]:41235 tls proxy-protocol, 0.0.0.0:80 redirect-https=443": the listeners with their bound ports.
    func display(hostOverride: String? = nil) -> String {
        zip(members, addresses).map { member, address in
            Address.display(host: hostOverride ?? address.host, port: member.port) + (address.tls ? " tls" : "")
                + (address.proxyProtocol ? " proxy-protocol" : "")
                + (address.redirectHTTPSPort.map { " redirect-https=\($0)" } ?? "")
        }.joined(separator: ", ")
    }
}

/// The reuseport steering of a slot's sockets applies to each listener's group.
extension ReuseportGroup {
    static func steer(_ set: ListenerSet, toFirst active: Int) throws(SystemError) {
        for member in set.members { try steer(member, toFirst: active) }
    }

    static func stopSteering(_ set: ListenerSet) {
        set.members.forEach { stopSteering($0) }
    }

    /// What waits in all of the set's queues together; nil if the kernel does not say.
    static func queuedConnections(_ set: ListenerSet) -> Int? {
        var total = 0
        for member in set.members {
            guard let count = queuedConnections(member) else { return nil }
            total += count
        }
        return total
    }
}

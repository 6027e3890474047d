// ProxyHeaderReader: the connection phase before HTTP on a proxy-protocol
// listener. A connection is admitted only from a --trusted-proxy peer; then
// its PROXY header (ProxyHeaderParser) must arrive whole, within the header
// timeout, before the driver sees a byte. The header is peeked and then taken
// exactly, so a request that arrived in the same segment stays in the socket
// for the driver's own read; the bytes of a header split across segments are
// taken as they come (a level-triggered epoll would otherwise report the same
// bytes forever) and kept on the connection until the rest arrives. A missing,
// malformed or oversized header closes the connection without a response, as
// nginx and HAProxy do. The client it names becomes the connection's client:
// in the access log, and in each request's `clientAddress`.
import HTTP1
import Logging
import ServerSystem

final class ProxyHeaderReader {
    private let trusted: TrustedProxies
    /// --real-ip-header is on: every connection's peer is checked, so forwarded headers
    /// are believed only from trusted proxies.
    let checksEveryPeer: Bool
    private let clients: ClientAddresses
    private let accessLog: AccessLog?
    private let record: WorkerRecord
    private let logger: Logger
    /// Room for the longest header accepted: the most a connection can make the worker look at.
    private let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: ProxyHeaderParser.maximumLength, alignment: 8)

    init(clients: ClientAddresses, accessLog: AccessLog?, record: WorkerRecord, logger: Logger) {
        trusted = clients.trustedProxies
        checksEveryPeer = clients.realIPHeader != nil
        self.clients = clients
        self.accessLog = accessLog
        self.record = record
        self.logger = logger
    }

    deinit { scratch.deallocate() }

    /// A new connection: false to close it at once (a proxy-protocol listener's peer is not trusted).
    func admit<T: Transport & ~Copyable>(_ connection: Connection<T>, proxied: Bool) -> Bool {
        guard let peer = try? SocketEndpoint.peer(of: connection.transport.fd) else {
            if proxied { record.add(.proxyHeadersRefused) }
            return false
        }
        let peerTrusted = trusted.contains(peer.isIPv6 ? .v6 : .v4, peer.address)
        if proxied {
            guard peerTrusted else {
                record.add(.proxyHeadersRefused)
                logger.debug("refused a connection from \(peer.host): not a --trusted-proxy")
                return false
            }
            connection.awaitingProxyHeader = true
        }
        connection.peerTrusted = peerTrusted
        return true
    }

    /// The connection is readable while its header is owed: read what there is of it and,
    /// once it is whole, hand the connection to `driver` for its first request.
    func read<Service: ConnectionService, T: Transport & ~Copyable>(_ connection: Connection<T>, then driver: Service) -> ConnectionStatus {
        let kept = connection.proxyHeaderBytes?.withReadableBytes { kept in
            scratch.copyMemory(from: kept)
            return kept.count
        } ?? 0
        let peeked: ReadOutcome
        do {
            peeked = try connection.transport.peekBeneath(into: UnsafeMutableRawBufferPointer(rebasing: scratch[kept...]))
        } catch {
            logger.debug("\(error)")
            return refuse()
        }
        guard case .bytes(let count) = peeked else { return peeked == .wouldBlock ? .idle : refuse() }
        switch ProxyHeaderParser.parse(UnsafeRawBufferPointer(rebasing: scratch[..<(kept + count)])) {
        case .invalid:
            logger.debug("closed a connection on a proxy-protocol listener: no valid PROXY header")
            return refuse()
        case .incomplete:
            let arrived = UnsafeRawBufferPointer(rebasing: scratch[kept..<(kept + count)])
            if let partial = connection.proxyHeaderBytes { partial.append(arrived) } else {
                connection.proxyHeaderBytes = ByteBuffer(copying: arrived, minimumCapacity: 128)
            }
            return take(count, from: connection) ? .idle : refuse()
        case .complete(let header):
            guard take(header.length - kept, from: connection) else { return refuse() }
            accept(header, on: connection)
            return driver.readable(connection)
        }
    }

    /// Takes `count` peeked bytes out of the socket, into the end of the scratch space (they were copied already).
    private func take<T: Transport & ~Copyable>(_ count: Int, from connection: Connection<T>) -> Bool {
        var left = count
        while left > 0 {
            let space = UnsafeMutableRawBufferPointer(rebasing: scratch[(scratch.count - left)...])
            guard case .bytes(let read) = (try? connection.transport.readBeneath(into: space)) ?? .closed else { return false }
            left -= read
        }
        return true
    }

    private func accept<T: Transport & ~Copyable>(_ header: ProxyHeader, on connection: Connection<T>) {
        connection.awaitingProxyHeader = false
        connection.proxyHeaderBytes = nil
        record.add(.proxyHeadersAccepted)
        // LOCAL (the balancer's health check) and UNKNOWN name no client: the peer stays it.
        guard let source = header.source else { return }
        connection.peerTrusted = trusted.contains(source.family, source.address)
        let fd = connection.transport.fd
        ClientAddressEntry.write(source, into: clients.entry(for: fd))
        connection.clientNoted = true
        if let peers = accessLog?.peers {
            _ = source.writeText(into: UnsafeMutableBufferPointer(start: peers.scratch, count: PeerAddresses.textCapacity))
            peers.keepScratch(for: fd)
        }
    }

    /// The header timeout expired before the header was whole: the connection closes (never a 408).
    func headerTimedOut() {
        record.add(.proxyHeadersRefused)
    }

    private func refuse() -> ConnectionStatus {
        record.add(.proxyHeadersRefused)
        return .closed
    }
}

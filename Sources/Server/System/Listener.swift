// Listener: a listening TCP socket created through CEventPoll, and accept4.
import CEventPoll
import Glibc
import Synchronization

/// A listening TCP socket (non-blocking, close-on-exec, TCP_NODELAY inherited by accepted sockets).
public final class Listener {
    /// The listening descriptor.
    public let fd: Int32
    /// The port the socket is bound to (the kernel's choice when asked for port 0).
    public let port: Int
    /// Whether another process keeps a descriptor for the socket beyond this server's
    /// life (systemd, which passed it by socket activation): closing ours then resets
    /// nothing queued on it, and whatever is set on the socket outlives us.
    public let outlivesServer: Bool
    /// Set by the first `close`: the number may belong to another file by a second one
    /// (a draining event loop and the model that opened the listener both close it).
    private let closed = Atomic<Bool>(false)

    private init(fd: Int32, port: Int, outlivesServer: Bool = false) {
        self.fd = fd
        self.port = port
        self.outlivesServer = outlivesServer
    }

    /// Binds and listens on `host:port`.
    ///
    /// - Parameters:
    ///   - host: a numeric IPv4 or IPv6 address.
    ///   - reusePort: set `SO_REUSEPORT`, so several sockets can share the port and the kernel spreads connections.
    public static func open(host: String, port: Int, backlog: Int32, reusePort: Bool) throws(SystemError) -> Listener {
        var failedCall: UnsafePointer<CChar>? = nil
        let fd = cep_listen_tcp(host, UInt16(truncatingIfNeeded: port), backlog, reusePort ? 1 : 0, &failedCall)
        guard fd >= 0 else {
            let code = errno  // before building strings, which may change errno
            let call = failedCall.map { String(cString: $0) } ?? "listen"
            throw SystemError(call: "\(call)(\(Address.display(host: host, port: port)))", errno: code)
        }
        let bound = cep_local_port(fd)
        guard bound >= 0 else {
            let code = errno
            _ = Glibc.close(fd)
            throw SystemError(call: "getsockname(fd \(fd))", errno: code)
        }
        return Listener(fd: fd, port: Int(bound))
    }

    /// Takes over a listening socket this process inherited (from systemd's socket
    /// activation, or from the old master of a binary upgrade): it must already
    /// listen; it is made non-blocking and close-on-exec like one opened here, and
    /// gets TCP_NODELAY, which accepted sockets inherit.
    /// - Parameter outlivesServer: the passing process keeps the socket (systemd does; an old master exits).
    public static func adopt(fd: Int32, outlivesServer: Bool = false) throws(SystemError) -> Listener {
        var accepting: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        _ = try blockingSystemCall("getsockopt(fd \(fd), SO_ACCEPTCONN)", {
            getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &accepting, &length)
        })
        guard accepting == 1 else { throw SystemError(call: "inherited fd \(fd) is not a listening socket", errno: EINVAL) }
        let flags = try blockingSystemCall("fcntl(fd \(fd), F_GETFL)", { fcntl(fd, F_GETFL) })
        _ = try blockingSystemCall("fcntl(fd \(fd), F_SETFL)", { fcntl(fd, F_SETFL, flags | O_NONBLOCK) })
        _ = try blockingSystemCall("fcntl(fd \(fd), F_SETFD)", { fcntl(fd, F_SETFD, FD_CLOEXEC) })
        var on: Int32 = 1
        _ = try blockingSystemCall("setsockopt(fd \(fd), TCP_NODELAY)", {
            setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &on, socklen_t(MemoryLayout<Int32>.size))
        })
        let port = try blockingSystemCall("getsockname(fd \(fd))", { cep_local_port(fd) })
        return Listener(fd: fd, port: Int(port), outlivesServer: outlivesServer)
    }

    /// Lets the descriptor survive execve, to hand it to a new master (binary upgrade).
    func keepAcrossExec() throws(SystemError) {
        _ = try blockingSystemCall("fcntl(fd \(fd), F_SETFD, 0)", { fcntl(fd, F_SETFD, 0) })
    }

    /// Throws if something already listens on `host:port`, even a server that uses
    /// SO_REUSEPORT under the same user (which a SO_REUSEPORT bind would silently join).
    public static func ensurePortIsFree(host: String, port: Int) throws(SystemError) {
        var failedCall: UnsafePointer<CChar>? = nil
        guard cep_probe_port(host, UInt16(truncatingIfNeeded: port), &failedCall) == 0 else {
            let code = errno
            let call = failedCall.map { String(cString: $0) } ?? "bind"
            throw SystemError(call: "\(call)(\(Address.display(host: host, port: port)))", errno: code)
        }
    }

    /// Accepts one pending connection, or returns nil when the queue is empty (EAGAIN).
    ///
    /// A connection that was reset while queued (ECONNABORTED) or failed with a
    /// network error the man page says to treat like EAGAIN is skipped by retrying.
    ///
    /// - Parameter peers: where to note the peer's address, only when the access log wants it.
    func accept(notingPeerIn peers: PeerAddresses? = nil) throws(SystemError) -> Socket? {
        while true {
            do {
                let accepted: Int32?
                if let peers {
                    accepted = try systemCall("accept4(fd \(self.fd))", { cep_accept_peer(self.fd, peers.scratch, PeerAddresses.textCapacity) })
                    if let accepted { peers.keepScratch(for: accepted) }
                } else {
                    accepted = try systemCall("accept4(fd \(self.fd))", { cep_accept(self.fd) })
                }
                guard let fd = accepted else { return nil }
                return Socket(fd: fd)
            } catch where Listener.isTransientAcceptError(error.errno) {
                continue
            }
        }
    }

    /// accept(2), "Error handling": these errors belong to the new connection, not the listener.
    private static func isTransientAcceptError(_ code: Int32) -> Bool {
        switch code {
        case ECONNABORTED, EPROTO, ENETDOWN, ENOPROTOOPT, EHOSTDOWN, ENONET, EHOSTUNREACH, EOPNOTSUPP, ENETUNREACH:
            return true
        default:
            return false
        }
    }

    /// Closes the listening socket; later calls do nothing, so whoever holds the
    /// listener may close it without closing a descriptor reused since.
    public func close() {
        guard !closed.exchange(true, ordering: .relaxed) else { return }
        _ = Glibc.close(fd)
    }
}

/// How the server prints an address: IPv6 literals in brackets, as in URLs.
enum Address {
    static func display(host: String, port: Int) -> String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }
}

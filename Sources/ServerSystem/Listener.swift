// Listener: a listening TCP socket created through CEventPoll, and accept4.
import CEventPoll
import Glibc

/// A listening TCP socket (non-blocking, close-on-exec, TCP_NODELAY inherited by accepted sockets).
public final class Listener {
    private let descriptor: FileDescriptor
    /// The port the socket is bound to (the kernel's choice when asked for port 0).
    public let port: Int
    /// Whether another process keeps a descriptor for the socket beyond this server's
    /// life (systemd, which passed it by socket activation): closing ours then resets
    /// nothing queued on it, and whatever is set on the socket outlives us.
    public let outlivesServer: Bool

    private init(_ descriptor: consuming FileDescriptor, port: Int, outlivesServer: Bool = false) {
        self.descriptor = descriptor
        self.port = port
        self.outlivesServer = outlivesServer
    }

    /// The listening descriptor.
    public var fd: Int32 { descriptor.raw }

    /// Binds and listens on `host:port`.
    ///
    /// - Parameters:
    ///   - host: a numeric IPv4 or IPv6 address.
    ///   - reusePort: set `SO_REUSEPORT`, so several sockets can share the port and the kernel spreads connections.
    ///   - ipv6Only: an IPv6 socket takes no IPv4 connections (`IPV6_V6ONLY`), so `::` can share a port with `0.0.0.0`.
    public static func open(host: String, port: Int, backlog: Int32, reusePort: Bool,
                            ipv6Only: Bool = false) throws(SystemError) -> Listener {
        var failedCall: UnsafePointer<CChar>? = nil
        let descriptor = FileDescriptor(try blockingSystemCall(failedStep(failedCall, "listen", host, port), {
            cep_listen_tcp(host, UInt16(truncatingIfNeeded: port), backlog, reusePort ? 1 : 0, ipv6Only ? 1 : 0, &failedCall)
        }))
        let fd = descriptor.raw
        do {
            let bound = try blockingSystemCall("getsockname(fd \(fd))", { cep_local_port(fd) })
            return Listener(descriptor, port: Int(bound))
        } catch {
            descriptor.close()
            throw error
        }
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
        return Listener(FileDescriptor(fd), port: Int(port), outlivesServer: outlivesServer)
    }

    /// At most `bytes` of what the server writes wait unsent in each accepted socket's buffer
    /// (TCP_NOTSENT_LOWAT, tcp(7); accepted sockets inherit it): a write past that is partial,
    /// and the socket reports writable again once less than half of it is left. 0 restores the
    /// kernel's default (`net.ipv4.tcp_notsent_lowat`, unlimited unless set).
    package func limitUnsentBytes(to bytes: Int32) throws(SystemError) {
        var value = bytes
        _ = try blockingSystemCall("setsockopt(fd \(fd), TCP_NOTSENT_LOWAT, \(bytes))", {
            setsockopt(fd, Int32(IPPROTO_TCP), TCP_NOTSENT_LOWAT, &value, socklen_t(MemoryLayout<Int32>.size))
        })
    }

    /// Lets the descriptor survive execve, to hand it to a new master (binary upgrade).
    package func keepAcrossExec() throws(SystemError) {
        _ = try blockingSystemCall("fcntl(fd \(fd), F_SETFD, 0)", { fcntl(fd, F_SETFD, 0) })
    }

    /// Throws if something already listens on `host:port`, even a server that uses
    /// SO_REUSEPORT under the same user (which a SO_REUSEPORT bind would silently join).
    public static func ensurePortIsFree(host: String, port: Int, ipv6Only: Bool = false) throws(SystemError) {
        var failedCall: UnsafePointer<CChar>? = nil
        _ = try blockingSystemCall(failedStep(failedCall, "bind", host, port), {
            cep_probe_port(host, UInt16(truncatingIfNeeded: port), ipv6Only ? 1 : 0, &failedCall)
        })
    }

    /// The call text of a failed listener setup: the step the shim names, and the address.
    private static func failedStep(_ step: UnsafePointer<CChar>?, _ fallback: String, _ host: String, _ port: Int) -> String {
        "\(step.map { String(cString: $0) } ?? fallback)(\(Address.display(host: host, port: port)))"
    }

    /// Accepts one pending connection, or returns nil when the queue is empty (EAGAIN).
    ///
    /// A connection that was reset while queued (ECONNABORTED) or failed with a
    /// network error the man page says to treat like EAGAIN is skipped by retrying.
    ///
    /// - Parameter peerText: where to write the peer's numeric address as C text
    ///   (the caller's buffer, so accepting stays allocation-free), or nil when nobody wants it.
    package func accept(peerText: UnsafeMutableBufferPointer<CChar>? = nil) throws(SystemError) -> Socket? {
        while true {
            do {
                let accepted: Int32?
                if let peerText {
                    accepted = try systemCall("accept4(fd \(self.fd))", {
                        cep_accept_peer(self.fd, peerText.baseAddress, peerText.count)
                    })
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
        descriptor.close()
    }
}

/// How the server prints an address: IPv6 literals in brackets, as in URLs.
package enum Address {
    package static func display(host: String, port: Int) -> String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }
}

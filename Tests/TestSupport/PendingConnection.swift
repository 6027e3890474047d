// PendingConnection: a non-blocking connect(2) to loopback whose outcome is read
// later, for a test that must see whether a server answers a SYN at all: a
// blocking connect would only return once it had.
import Glibc

public final class PendingConnection {
    public let fd: Int32

    /// Sends the SYN to 127.0.0.1:`port` and returns without waiting for an answer.
    public init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw LaunchError("socket: errno \(errno)") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        inet_pton(AF_INET, "127.0.0.1", &address.sin_addr)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        // As in TestClient: throwing runs deinit, which closes the socket.
        guard result == 0 || errno == EINPROGRESS else { throw LaunchError("connect to 127.0.0.1:\(port): errno \(errno)") }
    }

    deinit {
        close(fd)
    }

    /// How the connect ended: 0 once connected, or the errno it failed with (connect(2),
    /// EINPROGRESS: SO_ERROR); nil if it is still pending after `milliseconds`.
    public func outcome(withinMilliseconds milliseconds: Int) -> Int32? {
        var poller = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
        guard poll(&poller, 1, Int32(milliseconds)) > 0 else { return nil }
        var error: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        guard getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) == 0 else { return errno }
        return error
    }
}

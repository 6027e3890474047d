// What the kernel holds on a test client's own socket: its receive queue and
// TCP state (tcp(7)). The server's end is read from SocketTable.
import Glibc
import TestSupport

extension TestClient {
    /// Bytes waiting in the client's receive queue (FIONREAD).
    var unreadBytes: Int {
        var count: Int32 = 0
        _ = ioctl(fd, UInt(FIONREAD), &count)
        return Int(count)
    }

    /// The client socket's TCP state (tcpi_state of TCP_INFO).
    var tcpState: Int {
        var info = tcp_info()
        var length = socklen_t(MemoryLayout<tcp_info>.size)
        guard getsockopt(fd, Int32(IPPROTO_TCP), TCP_INFO, &info, &length) == 0 else { return -1 }
        return Int(info.tcpi_state)
    }

    /// TCP_CLOSE in netinet/tcp.h: the connection is gone, here after a reset.
    static let closedState = 7
}

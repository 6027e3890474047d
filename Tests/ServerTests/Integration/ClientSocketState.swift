// What the kernel holds for a test client's connection: the queues of the
// server's end, from /proc/net/tcp (proc(5)), and the client's own receive
// queue and TCP state (tcp(7)).
import Glibc
import TestSupport

extension TestClient {
    /// The client's local port (getsockname(2)).
    var localPort: Int {
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// For the server's end of this (IPv4) connection: bytes sent but not acknowledged or
    /// not yet sent (tx_queue), and bytes received but not yet read (rx_queue).
    func serverSideQueues(serverPort: Int) throws -> (send: Int, receive: Int) {
        let clientPort = localPort
        for line in try Self.wholeFile("/proc/net/tcp").split(separator: "\n").dropFirst() {
            let fields = line.split(separator: " ")
            guard fields.count > 4, Int(fields[1].split(separator: ":")[1], radix: 16) == serverPort,
                  Int(fields[2].split(separator: ":")[1], radix: 16) == clientPort else { continue }
            let queues = fields[4].split(separator: ":")
            guard let send = Int(queues[0], radix: 16), let receive = Int(queues[1], radix: 16) else { break }
            return (send, receive)
        }
        throw LaunchError("no /proc/net/tcp entry for the server's port \(serverPort) to port \(clientPort)")
    }

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

    /// A /proc file read to its end (its size reads as 0, so it is read until read(2) returns 0).
    private static func wholeFile(_ path: String) throws -> String {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw LaunchError("open(\(path)): errno \(errno)") }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = read(fd, &chunk, chunk.count)
            guard count > 0 else { break }
            bytes += chunk[0..<count]
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

// SocketTable: the kernel's table of TCP sockets (/proc/net/tcp and tcp6, see
// proc(5)), so a test can wait until the server has taken a connection, or read
// what was sent on it, instead of sleeping and hoping it has.
import Foundation
import Glibc

/// One row of /proc/net/tcp or /proc/net/tcp6: a TCP socket of this network namespace.
public struct TCPSocketRow {
    /// The kernel's state numbers (include/net/tcp_states.h) that tests look for.
    public static let established = 1, synReceived = 3, timeWait = 6, closeWait = 8, listening = 10

    public let localPort: Int
    public let remotePort: Int
    public let state: Int
    /// Bytes sent that the peer has not acknowledged yet (for a peer that does not read: what backs up).
    public let sendQueue: Int
    /// Bytes received that the owner has not read yet; for a listener, the connections in its accept queue.
    public let receiveQueue: Int
    /// The socket's inode; 0 while no process holds it (a connection still in a listener's
    /// accept queue, or one its process has closed).
    public let inode: Int

    /// Every TCP socket the kernel lists now. Reading the table walks the kernel's whole
    /// hash (milliseconds), so poll it at an `eventually` pace, not in a tight loop.
    public static func all() -> [TCPSocketRow] {
        ["/proc/net/tcp", "/proc/net/tcp6"].flatMap { path -> [TCPSocketRow] in
            readToEnd(path).split(separator: "\n").dropFirst().compactMap(TCPSocketRow.init(line:))
        }
    }

    /// The connections (not listeners) process `pid` holds a descriptor for, matched by
    /// inode with the sockets named in /proc/PID/fd ("socket:[INODE]").
    public static func connections(heldBy pid: pid_t) -> [TCPSocketRow] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd")) ?? []
        let inodes = Set(names.compactMap { name -> Int? in
            guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/fd/\(name)"),
                  target.hasPrefix("socket:[") else { return nil }
            return Int(target.dropFirst(8).dropLast())
        })
        return all().filter { $0.inode != 0 && inodes.contains($0.inode) && $0.state != listening }
    }

    /// The whole file. The kernel hands these tables out a page per read(2), and
    /// String(contentsOfFile:) stops after the first: a file of size 0 is read until EOF here.
    private static func readToEnd(_ path: String) -> String {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return "" }
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

    /// "sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode ..."
    /// with addresses as HEXADDRESS:HEXPORT.
    init?(line: Substring) {
        let fields = line.split(separator: " ", omittingEmptySubsequences: true)
        guard fields.count > 9 else { return nil }
        let queues = fields[4].split(separator: ":")
        guard queues.count == 2, let sent = Int(queues[0], radix: 16), let received = Int(queues[1], radix: 16),
              let local = fields[1].split(separator: ":").last.flatMap({ Int($0, radix: 16) }),
              let remote = fields[2].split(separator: ":").last.flatMap({ Int($0, radix: 16) }),
              let state = Int(fields[3], radix: 16),
              let inode = Int(fields[9]) else { return nil }
        localPort = local
        remotePort = remote
        self.state = state
        sendQueue = sent
        receiveQueue = received
        self.inode = inode
    }
}

extension TestClient {
    /// The server's end of this connection as the kernel lists it: the socket whose local
    /// port is the one this client connected to and whose remote port is this client's.
    /// A TIME_WAIT row with the same ports is an earlier connection's, never this one's.
    /// - Parameter rows: one reading of the table, to check several clients against.
    public func serverEnd(in rows: [TCPSocketRow] = TCPSocketRow.all()) -> TCPSocketRow? {
        guard let ports = connectionPorts() else { return nil }
        return rows.first { $0.localPort == ports.server && $0.remotePort == ports.client && $0.state != TCPSocketRow.timeWait }
    }

    /// Whether the server has accepted this connection and read every byte sent on it so far:
    /// its end is held by a process (a non-zero inode) and nothing waits in its receive queue.
    public func serverHasReadEverythingSent(in rows: [TCPSocketRow] = TCPSocketRow.all()) -> Bool {
        guard let end = serverEnd(in: rows) else { return false }
        return [TCPSocketRow.established, TCPSocketRow.closeWait].contains(end.state) && end.inode != 0 && end.receiveQueue == 0
    }

    /// Whether the connection waits in the listener's accept queue or has been accepted
    /// (rather than waiting in SYN_RECV for data, as with TCP_DEFER_ACCEPT, or not yet there).
    public func serverEndIsEstablished(in rows: [TCPSocketRow] = TCPSocketRow.all()) -> Bool {
        serverEnd(in: rows)?.state == TCPSocketRow.established
    }

    /// Whether some process still holds the server's end (it has not closed its descriptor).
    public func serverHoldsItsEnd(in rows: [TCPSocketRow] = TCPSocketRow.all()) -> Bool {
        (serverEnd(in: rows)?.inode ?? 0) != 0
    }

    /// This client's own port (getsockname(2)); it stays readable after a reset.
    public var clientPort: Int? { Self.port(of: fd, getsockname) }

    /// This client's port and the server's, from getsockname(2) and getpeername(2).
    private func connectionPorts() -> (client: Int, server: Int)? {
        guard let client = Self.port(of: fd, getsockname), let server = Self.port(of: fd, getpeername) else { return nil }
        return (client, server)
    }

    private static func port(of fd: Int32,
                             _ call: (Int32, UnsafeMutablePointer<sockaddr>, UnsafeMutablePointer<socklen_t>) -> Int32) -> Int? {
        var address = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let result = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { call(fd, $0, &length) }
        }
        guard result == 0 else { return nil }
        return withUnsafePointer(to: &address) { pointer -> Int in
            // sin_port and sin6_port sit at the same offset, in network byte order.
            pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin_port)) }
        }
    }
}

// TestClient: a plain blocking TCP client with timeouts, speaking just enough
// HTTP/1.1 to read responses framed by Content-Length.
import Foundation
import Glibc

public struct TestResponse {
    public let statusLine: String
    public let status: Int
    public let headers: [(name: String, value: String)]
    public let body: String
    /// Bytes the response took on the wire, head and body.
    public let wireSize: Int

    public func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    /// The worker pid from the built-in `/` route's "pid N" body.
    public var servedBy: pid_t? {
        body.hasPrefix("pid ") ? pid_t(body.dropFirst(4).trimmingCharacters(in: .whitespacesAndNewlines)) : nil
    }
}

public final class TestClient {
    public let fd: Int32
    private var buffered: [UInt8] = []

    /// Connects to `host:port` with 5 s send and receive timeouts.
    /// - Parameter smallReceiveBuffer: a 4 KiB receive buffer, set before connecting so the
    ///   advertised window stays small: a client that does not read then backs up the server at once.
    public init(port: Int, host: String = "127.0.0.1", timeoutSeconds: Int = 5, smallReceiveBuffer: Bool = false) throws {
        let family = host.contains(":") ? AF_INET6 : AF_INET
        fd = socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw LaunchError("socket: errno \(errno)") }
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var on: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &on, socklen_t(MemoryLayout<Int32>.size))
        if smallReceiveBuffer {
            var size: Int32 = 4096
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        let result: Int32
        if family == AF_INET6 {
            var address = sockaddr_in6()
            address.sin6_family = sa_family_t(AF_INET6)
            address.sin6_port = in_port_t(UInt16(port).bigEndian)
            inet_pton(AF_INET6, host, &address.sin6_addr)
            result = Self.connect(fd, to: &address)
        } else {
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            inet_pton(AF_INET, host, &address.sin_addr)
            result = Self.connect(fd, to: &address)
        }
        guard result == 0 else {
            // Not closed here: every property is set, so throwing runs deinit, which closes
            // it. Closing twice would close whatever socket another thread got the number for.
            throw LaunchError("connect to \(host):\(port): errno \(errno)")
        }
    }

    /// connect(2) with a sockaddr_in or sockaddr_in6 seen as the sockaddr it starts with.
    private static func connect<Address>(_ fd: Int32, to address: inout Address) -> Int32 {
        withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<Address>.size)) }
        }
    }

    deinit {
        Glibc.close(fd)
    }

    public func send(_ text: String) throws {
        try send(Array(text.utf8))
    }

    public func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let count = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard count > 0 else { throw LaunchError("send: errno \(errno)") }
            offset += count
        }
    }

    /// Half-closes the connection: the server reads end of file after what was sent.
    /// Makes the close (deinit) a reset (SO_LINGER of 0 s): the server sees ECONNRESET / EPOLLHUP, not a FIN.
    public func resetOnClose() {
        var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
        _ = setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
    }

    public func shutdownWrite() {
        _ = Glibc.shutdown(fd, Int32(SHUT_WR))
    }

    /// Sends a GET request (HTTP/1.1, keep-alive) for `path` and reads its response.
    public func get(_ path: String, headers: String = "") throws -> TestResponse {
        try send("GET \(path) HTTP/1.1\r\nHost: test\r\n\(headers)\r\n")
        return try readResponse()
    }

    /// Reads one response: the head up to the empty line, then Content-Length bytes.
    public func readResponse(headOnly: Bool = false) throws -> TestResponse {
        let headEnd = try fill(until: { Self.find([13, 10, 13, 10], in: $0) }).upperBound
        let head = String(decoding: buffered[0..<headEnd], as: UTF8.self)
        var lines = head.components(separatedBy: "\r\n").filter { !$0.isEmpty }
        let statusLine = lines.removeFirst()
        let parts = statusLine.split(separator: " ", maxSplits: 2)
        guard parts.count >= 2, let status = Int(parts[1]) else { throw LaunchError("bad status line: \(statusLine)") }
        let headers = lines.map { line -> (String, String) in
            let colon = line.firstIndex(of: ":")!
            return (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
        let length = headOnly ? 0 : Int(headers.first { $0.0.lowercased() == "content-length" }?.1 ?? "0") ?? 0
        buffered.removeFirst(headEnd)
        _ = try fill(until: { $0.count >= length ? 0..<length : nil })
        let body = String(decoding: buffered[0..<length], as: UTF8.self)
        buffered.removeFirst(length)
        return TestResponse(statusLine: statusLine, status: status, headers: headers, body: body, wireSize: headEnd + length)
    }

    /// Everything the server sends until it closes the connection (or the receive timeout passes).
    public func readUntilClosed() -> String {
        var received = buffered
        buffered = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = recv(fd, &chunk, chunk.count, 0)
            guard count > 0 else { break }
            received += chunk[0..<count]
        }
        return String(decoding: received, as: UTF8.self)
    }

    /// Reads and discards until the server closes (true) or the receive timeout passes (false).
    public func serverClosesWhileDraining() -> Bool {
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = recv(fd, &chunk, chunk.count, 0)
            if count > 0 { continue }
            return count == 0 || errno == ECONNRESET
        }
    }

    /// Sends as much of `bytes`, repeated, as the socket takes within `milliseconds`,
    /// without blocking; returns how many bytes went out.
    public func sendWithoutBlocking(_ bytes: [UInt8], forMilliseconds milliseconds: Int, atMost limit: Int) -> Int {
        let deadline = Launch.now() + milliseconds
        var sent = 0
        while Launch.now() < deadline && sent < limit {
            let count = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL | MSG_DONTWAIT)) }
            if count > 0 {
                sent += count
                continue
            }
            guard errno == EAGAIN || errno == EWOULDBLOCK else { break }  // the connection is gone: it takes no more
            _ = waitFor(Int16(POLLOUT), withinMilliseconds: deadline - Launch.now())
        }
        return sent
    }

    /// Whether the server has sent something (or closed) within `milliseconds`, by poll(2).
    public func isReadable(withinMilliseconds milliseconds: Int) -> Bool {
        !buffered.isEmpty || waitFor(Int16(POLLIN), withinMilliseconds: milliseconds)
    }

    /// poll(2) for `events` on the socket, at most `milliseconds`.
    private func waitFor(_ events: Int16, withinMilliseconds milliseconds: Int) -> Bool {
        var poller = pollfd(fd: fd, events: events, revents: 0)
        return poll(&poller, 1, Int32(max(0, milliseconds))) > 0
    }

    /// True if the server closed the connection (EOF) within the receive timeout, with no more bytes.
    public func readsEndOfStream() -> Bool {
        guard buffered.isEmpty else { return false }
        var byte: UInt8 = 0
        return recv(fd, &byte, 1, 0) == 0
    }

    /// Reads one newline-terminated line (the line protocol's answer), without its newline.
    public func readLine() throws -> String {
        let end = try fill(until: { bytes in bytes.firstIndex(of: 10).map { $0..<$0 + 1 } }).lowerBound
        let line = String(decoding: buffered[0..<end], as: UTF8.self)
        buffered.removeFirst(end + 1)
        return line
    }

    /// Reads until `match` finds what it needs in the buffered bytes.
    private func fill(until match: ([UInt8]) -> Range<Int>?) throws -> Range<Int> {
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            if let range = match(buffered) { return range }
            let count = recv(fd, &chunk, chunk.count, 0)
            if count == 0 { throw LaunchError("connection closed by server after \(buffered.count) bytes") }
            if count < 0 { throw LaunchError("recv: errno \(errno)") }
            buffered += chunk[0..<count]
        }
    }

    private static func find(_ needle: [UInt8], in haystack: [UInt8]) -> Range<Int>? {
        guard haystack.count >= needle.count else { return nil }
        for start in 0...(haystack.count - needle.count) where haystack[start..<start + needle.count].elementsEqual(needle) {
            return start..<start + needle.count
        }
        return nil
    }
}

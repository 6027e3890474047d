// SocketPair: a connected pair of non-blocking Unix stream sockets, for driving
// a connection in-process with the real kernel in between.
import Glibc

public struct SocketPair {
    /// The end the code under test owns.
    public let server: Int32
    /// The end the test writes requests to and reads responses from.
    public let client: Int32

    public init() throws {
        var fds: [Int32] = [0, 0]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0, &fds) == 0 else {
            throw LaunchError("socketpair: errno \(errno)")
        }
        server = fds[0]
        client = fds[1]
    }

    /// Writes all of `text` from the client end (the socket buffer must have room).
    public func clientSends(_ text: String) {
        var text = text
        text.withUTF8 { bytes in _ = write(client, bytes.baseAddress, bytes.count) }
    }

    /// Everything the client end can read right now.
    public func clientReceives() -> String {
        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = read(client, &chunk, chunk.count)
            guard count > 0 else { break }
            received += chunk[0..<count]
        }
        return String(decoding: received, as: UTF8.self)
    }

    public func closeClient() {
        _ = Glibc.close(client)
    }

    public func close() {
        _ = Glibc.close(server)
        _ = Glibc.close(client)
    }
}

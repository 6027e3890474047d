// SocketOrTLS: the transport of a worker that has a TLS listener beside plain
// ones: each connection is either its socket or a TLS session over it, chosen
// once, at accept, by the listener it came from. Only such a worker's loop is
// built over this type; a worker without TLS keeps the loop specialised for
// Socket alone, so the plain path pays nothing for HTTPS (not even this switch).
import ServerSystem
import TLS

package enum SocketOrTLS: ~Copyable, Transport {
    case plain(Socket)
    case tls(TLSSession)

    package var fd: Int32 {
        switch self {
        case .plain(let socket): socket.fd
        case .tls(let session): session.fd
        }
    }

    package func read(into buffer: UnsafeMutableRawBufferPointer) throws(SystemError) -> ReadOutcome {
        switch self {
        case .plain(let socket): try socket.read(into: buffer)
        case .tls(let session): try session.read(into: buffer)
        }
    }

    package func write(_ bytes: UnsafeRawBufferPointer, moreFollows: Bool) throws(SystemError) -> WriteOutcome {
        switch self {
        case .plain(let socket): try socket.write(bytes, moreFollows: moreFollows)
        case .tls(let session): try session.write(bytes, moreFollows: moreFollows)
        }
    }

    package func sendFile(from file: Int32, offset: inout Int, count: Int) throws(SystemError) -> WriteOutcome {
        switch self {
        case .plain(let socket): try socket.sendFile(from: file, offset: &offset, count: count)
        case .tls(let session): try session.sendFile(from: file, offset: &offset, count: count)
        }
    }

    package func shutdownWrite() {
        switch self {
        case .plain(let socket): socket.shutdownWrite()
        case .tls(let session): session.shutdownWrite()
        }
    }

    package func closeFollowsOutput() {
        switch self {
        case .plain: break
        case .tls(let session): session.closeFollowsOutput()
        }
    }

    package func resetOnClose() {
        switch self {
        case .plain(let socket): socket.resetOnClose()
        case .tls(let session): session.resetOnClose()
        }
    }

    package func close() {
        switch self {
        case .plain(let socket): socket.close()
        case .tls(let session): session.close()
        }
    }

    package var hasBufferedInput: Bool {
        switch self {
        case .plain: false
        case .tls(let session): session.hasBufferedInput
        }
    }

    package var awaitedReadiness: Readiness? {
        switch self {
        case .plain: nil
        case .tls(let session): session.awaitedReadiness
        }
    }

    package var copiesFileBodies: Bool {
        switch self {
        case .plain: false
        case .tls(let session): session.copiesFileBodies
        }
    }
}

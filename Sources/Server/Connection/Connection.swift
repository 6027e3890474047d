// Connection: one client connection's state between events. An idle
// keep-alive connection holds no buffers at all: bytes live in the worker's
// shared buffers and are copied here only when a request is split across
// reads or a response could not be sent in full (as nginx hands its buffers
// back when a connection goes idle).

package final class Connection {
    let socket: Socket
    /// The epoll token: this connection's fd and table generation.
    let token: UInt64
    /// The start of a request that has not fully arrived, if any.
    var input: ByteBuffer?
    /// Responses the socket did not take yet, if any.
    var output: ByteBuffer?
    /// How far the parser has searched `input` for the end of the header block.
    var scanned = 0
    /// Close once `output` is flushed: the last response said `Connection: close`.
    var closeAfterFlush = false
    /// The peer has sent FIN (EPOLLRDHUP seen): its end of file is still to be read.
    var peerHungUp = false
    /// Whether the epoll registration currently asks for EPOLLOUT (level-triggered only).
    var watchingWritable = false

    package init(socket: Socket, token: UInt64) {
        self.socket = socket
        self.token = token
    }
}

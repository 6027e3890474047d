// ListenerShutdown: closing a listening socket for good (the whole server
// stops) without resetting a connection it has already taken. The kernel keeps
// completing handshakes on a listener until its last descriptor closes, and then
// resets every connection still queued (and, with TCP_DEFER_ACCEPT, every one
// still waiting for its first bytes), so a sweep of the queue followed by
// close(2) always leaves a window in which a client that has connected is
// reset. Instead the socket first stops answering SYNs (a socket filter): a new
// client's SYN goes unanswered and is refused once the socket is closed. Then
// its holders keep accepting until no connection has arrived for a quiet
// period, since a handshake answered just before completes a round trip later
// (with TCP_DEFER_ACCEPT, once the client's first bytes are there), and only
// then close it. The limit that remains is ReuseportGroup's: a client that
// connected just before and stays silent past the quiet period is reset.
import CEventPoll

package enum ListenerShutdown {
    /// How long after the last arrival the queue counts as settled (as for a socket
    /// retired by TTOU, see WorkerCount.swift).
    package static let quietMilliseconds = 200

    /// Makes the kernel answer no new SYN on `listener`. Returns false, changing
    /// nothing, for a socket that outlives the server (socket activation): its queue
    /// survives our close, and a filter left on it would refuse the next server too.
    package static func stopHandshakes(_ listener: Listener) throws(SystemError) -> Bool {
        guard !listener.outlivesServer else { return false }
        _ = try blockingSystemCall("setsockopt(fd \(listener.fd), SO_ATTACH_FILTER, drop SYN)", {
            cep_listen_drop_syns(listener.fd)
        })
        return true
    }
}

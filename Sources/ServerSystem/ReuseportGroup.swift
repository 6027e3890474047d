// ReuseportGroup: retiring one SO_REUSEPORT listener without resetting what it
// queued. The kernel resets a listener's queued connections when its last
// descriptor closes, unless net.ipv4.tcp_migrate_req moves them to another
// socket of the group, and that is a host-wide setting we do not change. So
// the retiring socket is first steered out of new connections' way (a classic
// BPF program on the group picks among the sockets that stay), its worker keeps
// accepting until its queue is empty, and only then is it closed.
import CEventPoll
import Glibc

package enum ReuseportGroup {
    /// New connections go only to the group's first `active` sockets (in the order
    /// they started listening); those after them receive nothing new.
    package static func steer(_ member: Listener, toFirst active: Int) throws(SystemError) {
        _ = try blockingSystemCall("setsockopt(fd \(member.fd), SO_ATTACH_REUSEPORT_CBPF, \(active) sockets)", {
            cep_reuseport_steer(member.fd, UInt32(active))
        })
    }

    /// Hands selection back to the kernel's hash over every socket of the group.
    package static func stopSteering(_ member: Listener) {
        // ENOENT: no program was attached, which is the state wanted.
        _ = cep_reuseport_unsteer(member.fd)
    }

    /// Connections waiting in the listener's accept queue now; nil if the kernel does not say.
    package static func queuedConnections(_ listener: Listener) -> Int? {
        let count = cep_listen_queue_length(listener.fd)
        return count >= 0 ? Int(count) : nil
    }
}

// Epoll: one epoll instance and its preallocated event array. It only
// translates between kernel bits and (token, events) pairs; dispatch lives in EventLoop.
import CEventPoll
import Glibc

/// One ready descriptor from `epoll_wait`.
@usableFromInline
package struct ReadyEvent {
    /// The 64-bit token given when the descriptor was registered.
    @usableFromInline package let token: UInt64
    /// EPOLLIN, EPOLLOUT, EPOLLHUP, ... as reported.
    @usableFromInline package let events: UInt32

    @inlinable
    init(token: UInt64, events: UInt32) {
        self.token = token
        self.events = events
    }

    @inlinable package var isReadable: Bool { events & (CEP_EPOLLIN | CEP_EPOLLRDHUP | CEP_EPOLLHUP | CEP_EPOLLERR) != 0 }
    @inlinable package var isWritable: Bool { events & (CEP_EPOLLOUT | CEP_EPOLLHUP | CEP_EPOLLERR) != 0 }
    /// The peer has finished sending (EPOLLRDHUP) or the connection is gone (EPOLLHUP).
    @inlinable package var peerHungUp: Bool { events & (CEP_EPOLLRDHUP | CEP_EPOLLHUP) != 0 }
    /// Both directions are gone or the socket has an error (a reset): reported by epoll(7)
    /// whatever the interest, so a connection that asks for no events still gets it.
    @inlinable package var connectionGone: Bool { events & (CEP_EPOLLHUP | CEP_EPOLLERR) != 0 }
}

@usableFromInline
package final class Epoll {
    @usableFromInline let descriptor: FileDescriptor
    @usableFromInline let events: UnsafeMutablePointer<epoll_event>
    @usableFromInline let capacity: Int32
    /// Only the loop's thread touches it, one access at a time: unchecked, like the loop's own state.
    @exclusivity(unchecked) @usableFromInline var readyCount: Int32 = 0

    package init(capacity: Int = 512) throws(SystemError) {
        descriptor = FileDescriptor(try blockingSystemCall("epoll_create1", { cep_epoll_create() }))
        self.capacity = Int32(capacity)
        events = .allocate(capacity: capacity)
    }

    deinit {
        events.deallocate()
        descriptor.close()
    }

    /// The epoll instance's own descriptor.
    @inlinable var fd: Int32 { descriptor.raw }

    package func add(_ descriptor: Int32, events bits: UInt32, token: UInt64) throws(SystemError) {
        try control(EPOLL_CTL_ADD, "EPOLL_CTL_ADD", descriptor, bits, token)
    }

    package func modify(_ descriptor: Int32, events bits: UInt32, token: UInt64) throws(SystemError) {
        try control(EPOLL_CTL_MOD, "EPOLL_CTL_MOD", descriptor, bits, token)
    }

    package func remove(_ descriptor: Int32) throws(SystemError) {
        try control(EPOLL_CTL_DEL, "EPOLL_CTL_DEL", descriptor, 0, 0)
    }

    private func control(_ op: Int32, _ name: String, _ descriptor: Int32, _ bits: UInt32, _ token: UInt64) throws(SystemError) {
        _ = try blockingSystemCall("epoll_ctl(\(name), \(descriptor))", { cep_epoll_ctl(fd, op, descriptor, bits, token) })
    }

    /// Waits for readiness; returns how many events are ready (0 on timeout or EINTR,
    /// which the loop treats as "no events, re-check state"). Events are read with `event(at:)`.
    /// EINTR is not retried: that would restart the whole timeout, while the loop
    /// recomputes it from its deadlines anyway.
    @inlinable
    package func wait(timeoutMilliseconds: Int32) throws(SystemError) -> Int {
        readyCount = 0
        let count = try systemCall("epoll_wait(fd \(fd))", retryOnInterrupt: false, {
            cep_epoll_wait(fd, events, capacity, timeoutMilliseconds)
        }) ?? 0
        readyCount = count
        return Int(count)
    }

    @inlinable
    package func event(at index: Int) -> ReadyEvent {
        precondition(index < readyCount, "epoll event index out of range")
        let i = Int32(index)
        return ReadyEvent(token: cep_event_token(events, i), events: cep_event_bits(events, i))
    }
}

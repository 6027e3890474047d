// AcceptBalance: keeps the connections of a shared listener spread over the
// workers. With EPOLLEXCLUSIVE the kernel wakes one waiting worker per new
// connection, and a worker that is busy serving is rarely the one waiting, so
// under a burst (a load generator opening 512 connections at once) the first
// worker to wake keeps winning and ends up serving most of them while the
// others idle. Each worker therefore stops accepting while it holds more than
// its fair share of the connections the accepting workers hold together, read
// from the scoreboard (nginx's `accept_disabled` plays the same role).
struct AcceptBalance {
    let scoreboard: Scoreboard

    /// Headroom above an even split. Light load may gather on one worker: a few
    /// dozen connections do not saturate it, and serving them from one process
    /// means fewer wakeups and warmer caches (the reason epoll wakes waiters
    /// last-in-first-out). Heavy load is spread to within a sixteenth of the
    /// share, because then the busiest worker sets everyone's latency.
    static let minimumSlack = 32

    /// How many connections this worker may hold before it stops accepting;
    /// `Int.max` when it is the only worker accepting.
    func limit() -> Int {
        let load = scoreboard.acceptingLoad()
        guard load.workers > 1 else { return .max }
        let share = (load.connections + load.workers - 1) / load.workers
        return share + max(Self.minimumSlack, share / 16)
    }
}

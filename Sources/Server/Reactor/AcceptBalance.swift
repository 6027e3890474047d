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

    /// Headroom above an even split: a worker may hold its share plus two, or a sixteenth of
    /// the share once that is larger (heavy load, where a stale scoreboard read must not
    /// stop every worker at once). It was 32, to let a light load gather on one worker
    /// (fewer wakeups, warmer caches), but 64 busy connections then never reached the
    /// bound, and the first worker epoll wakes kept more of them than the other: with a
    /// new TLS connection per request (64 connections, ECDSA, `scripts/tls-variants`), the
    /// p99 was 10.4 ms with a slack of 2 against 14.0 ms with 32 (nginx, a socket per worker:
    /// 14.0; medians of 6 runs, lower in each), and 10.9 against 15.7 in another 6; a slack of
    /// 8 changed nothing (16.0 against 15.9 ms).
    static let minimumSlack = 2

    /// How many connections this worker may hold before it stops accepting;
    /// `Int.max` when it is the only worker accepting.
    func limit() -> Int {
        let load = scoreboard.acceptingLoad()
        guard load.workers > 1 else { return .max }
        let share = (load.connections + load.workers - 1) / load.workers
        return share + max(Self.minimumSlack, share / 16)
    }
}

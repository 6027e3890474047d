// EventLoopSettings: what an event loop takes from the server's configuration.

/// What a loop needs from the configuration (not generic, so callers can build it before choosing a protocol).
struct EventLoopSettings {
    var mode: TriggerMode
    var timeouts: TimeoutDurations
    var maxConnections: Int
    /// How long a graceful drain may take before the remaining connections are closed.
    var drainMilliseconds = 30_000
    /// The longest the loop sleeps, so an idle worker's heartbeat stays fresh for the watchdog.
    var heartbeatMilliseconds = 1000
}

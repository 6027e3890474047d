// LoadClient: keeps requests flowing against a server while a test operates on
// it (restart, resize, upgrade, shutdown), bounded in count and time, and
// tallies what went wrong. Some threads hold keep-alive connections, others
// open a fresh connection per request, so both idle connections and the
// listeners' accept queues are exercised.
//
// Like any HTTP client (RFC 9112 §9.3.1), it retries a request on a new
// connection when a reused keep-alive connection is closed before any byte of
// the response: the server may end an idle connection at any moment. A reset
// (ECONNRESET) is never retried: it is what these tests must never see.
import Foundation
import Glibc

public final class LoadClient: @unchecked Sendable {
    public struct Report: CustomStringConvertible {
        public var requests = 0
        public var failures: [String] = []
        public var resets = 0
        /// For each failure, the client's port of the connection it happened on (nil if it never connected).
        public var failedOn: [Int?] = []
        /// Connections refused after the test allowed it (the server has stopped listening).
        public var refused = 0
        public var servedBy: Set<pid_t> = []
        public var description: String {
            "\(requests) requests, \(resets) resets, \(refused) refused, failures: \(failures.prefix(5))"
        }
    }

    private let port: Int
    private let lock = NSLock()
    private var report = Report()
    private var stopping = false
    private var refusalAllowed = false
    private let finished = DispatchGroup()
    private let deadline: Int
    private let maxRequests: Int

    public init(port: Int, keepAliveClients: Int = 2, freshConnectionClients: Int = 2,
                maxRequests: Int = 50_000, maxMilliseconds: Int = 20_000) {
        self.port = port
        self.maxRequests = maxRequests
        deadline = Launch.now() + maxMilliseconds
        for index in 0..<(keepAliveClients + freshConnectionClients) {
            let keepAlive = index < keepAliveClients
            finished.enter()
            let thread = Thread { [self] in
                run(keepAlive: keepAlive)
                finished.leave()
            }
            thread.start()
        }
    }

    /// From now on a refused connection is expected (the server is shutting down), not a failure.
    public func allowRefusals() {
        lock.withLock { refusalAllowed = true }
    }

    public var requestsSoFar: Int { lock.withLock { report.requests } }

    /// Waits until at least `count` more requests have been answered (bounded by 10 s).
    public func waitForRequests(_ count: Int) {
        let target = requestsSoFar + count
        let until = Launch.now() + 10_000
        while requestsSoFar < target && Launch.now() < until { usleep(5_000) }
    }

    /// Stops every client thread and returns the tally.
    public func stop() -> Report {
        lock.withLock { stopping = true }
        finished.wait()
        return lock.withLock { report }
    }

    private func run(keepAlive: Bool) {
        var connection: TestClient?
        var reused = false
        while lock.withLock({ !stopping && report.requests < maxRequests }) && Launch.now() < deadline {
            do {
                if connection == nil {
                    connection = try TestClient(port: port)
                    reused = false
                }
                let response = try connection!.get("/", headers: keepAlive ? "" : "Connection: close\r\n")
                record(response, on: connection!)
                if !keepAlive || response.header("Connection")?.lowercased() == "close" { connection = nil } else { reused = true }
            } catch {
                let port = connection?.clientPort
                connection = nil
                if !classify("\(error)", on: port, reused: reused) { return }
            }
            usleep(1_000)  // pacing, not synchronisation: a request per client per millisecond at most
        }
    }

    private func record(_ response: TestResponse, on connection: TestClient) {
        lock.withLock {
            report.requests += 1
            if response.status != 200 {
                report.failures.append("status \(response.status)")
                report.failedOn.append(connection.clientPort)
            }
            if let pid = response.servedBy { report.servedBy.insert(pid) }
        }
    }

    /// Tallies one error; false when the client should stop (refused after shutdown).
    private func classify(_ error: String, on port: Int?, reused: Bool) -> Bool {
        lock.withLock {
            if error.contains("errno 104") {
                report.resets += 1
                report.failures.append(error)
                report.failedOn.append(port)
            } else if error.contains("errno 111") && refusalAllowed {
                report.refused += 1
                return false
            } else if reused && (error.contains("closed by server after 0 bytes") || error.contains("send: errno 32")) {
                return true  // the server ended an idle keep-alive connection: retry on a new one
            } else {
                report.failures.append(error)
                report.failedOn.append(port)
            }
            return true
        }
    }
}

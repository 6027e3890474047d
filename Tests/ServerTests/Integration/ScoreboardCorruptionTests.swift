// A worker that writes garbage over the whole scoreboard, against the real
// binary: every worker can write every byte of the shared region, so the test
// does what a compromised or buggy one could, through /proc/PID/mem of a worker
// (proc(5): writable by a process allowed to ptrace it), and checks that the
// master neither crashes nor believes the garbage.
import Glibc
import TestSupport
import XCTest

final class ScoreboardCorruptionTests: XCTestCase {
    /// Values a stray write could leave: above `Int.max`, odd (a seqlock held forever), all ones, tiny.
    private static let garbage: [UInt64] = [1 << 63, 0x8000_0000_0000_0001, .max, 0xDEAD_BEEF_DEAD_BEEF, 1]

    func testGarbageInTheSharedRegionNeitherCrashesNorMisleadsTheMaster() throws {
        let server = try ServerProcess(["--host", "127.0.0.1", "--workers", "2"])
        XCTAssertTrue(ServerProcess.eventually { server.workerPIDs().count == 2 })
        let workers = server.workerPIDs()
        XCTAssertEqual(try TestClient(port: server.port).get("/").status, 200)
        let writer = try XCTUnwrap(workers.first)
        for value in Self.garbage {
            try SharedRegion(of: writer).fill(with: value)
            XCTAssertTrue(processExists(server.pid), "the master survives \(String(value, radix: 16))")
            XCTAssertEqual(try TestClient(port: server.port).get("/").status, 200,
                           "a new request is served after \(String(value, radix: 16))")
            let scrape = try TestClient(port: server.port).get("/metrics")
            XCTAssertEqual(scrape.status, 200, "/metrics answers after \(String(value, radix: 16))")
            XCTAssertNoThrow(try PrometheusText(scrape.body), "and its text still parses")
        }
        XCTAssertEqual(server.workerPIDs(), workers, "no worker died of the garbage")
        // The master writes its own numbers over the shared copies at its next tick.
        XCTAssertTrue(ServerProcess.eventually {
            guard let metrics = try? PrometheusText(TestClient(port: server.port).get("/metrics").body) else { return false }
            return metrics.value("prefork_workers") == 2 && metrics.value("prefork_workers_spawned_total") == 2
                && metrics.value("prefork_workers_wanted") == 2 && metrics.value("prefork_draining") == 0
        }, "the master's numbers are its own again")
        XCTAssertEqual(try TestClient(port: server.port).get("/health").status, 200, "nobody believes the server drains")
        XCTAssertEqual(server.stop(signal: SIGQUIT).flatMap(exitCode(ofWaitStatus:)), 0, "a graceful stop still ends it")
        for worker in workers { XCTAssertFalse(processExists(worker), "worker \(worker) exited") }
    }
}

/// The scoreboard as a worker maps it: the one shared anonymous mapping in its
/// /proc/PID/maps (shown as `/dev/zero (deleted)`, see proc(5)).
struct SharedRegion {
    let pid: pid_t
    let start: UInt64
    let end: UInt64

    init(of pid: pid_t) throws {
        let maps = try String(contentsOfFile: "/proc/\(pid)/maps", encoding: .utf8)
        let shared = maps.split(separator: "\n").filter { line in
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            return fields.count >= 6 && fields[1] == "rw-s" && line.hasSuffix("/dev/zero (deleted)")
        }
        guard shared.count == 1, let range = shared[0].split(separator: " ").first else {
            throw LaunchError("expected one shared anonymous mapping in worker \(pid), found \(shared)")
        }
        let bounds = range.split(separator: "-").compactMap { UInt64($0, radix: 16) }
        guard bounds.count == 2 else { throw LaunchError("cannot read the mapping \(range)") }
        self.pid = pid
        (start, end) = (bounds[0], bounds[1])
    }

    /// Writes `value` into every 8-byte cell, through the worker's own view of the pages.
    func fill(with value: UInt64) throws {
        let cells = [UInt64](repeating: value, count: Int(end - start) / 8)
        let fd = open("/proc/\(pid)/mem", O_RDWR | O_CLOEXEC)
        guard fd >= 0 else { throw LaunchError("open(/proc/\(pid)/mem): errno \(errno)") }
        defer { close(fd) }
        let written = cells.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, off_t(start)) }
        guard written == cells.count * 8 else { throw LaunchError("pwrite(/proc/\(pid)/mem): \(written), errno \(errno)") }
    }
}

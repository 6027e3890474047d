// The master at the edges of its life cycle: a slot whose worker keeps dying
// (waiting out its respawn backoff) while the operator resizes or stops the
// server, workers that changed user when the master is killed, and listeners
// from socket activation that no worker would serve.
import Glibc
import TestSupport
import XCTest

final class SupervisorEdgeCaseTests: XCTestCase {
    func testWorkersRunningAsAnotherUserStopWhenTheMasterIsKilled() throws {
        try XCTSkipIf(getuid() != 0, "dropping to another user needs root")
        let server = try ServerProcess(["--host", "127.0.0.1", "--workers", "2", "--user", "nobody"])
        XCTAssertTrue(ServerProcess.eventually { server.workerPIDs().count == 2 })
        let workers = server.workerPIDs()
        // Only the master: its workers share its process group, which a killpg would end anyway.
        _ = server.stop(signal: SIGKILL)
        // Changing uid clears the parent-death signal, so a worker that asked before it would live on.
        XCTAssertTrue(ServerProcess.eventually(timeoutMilliseconds: 3000) { workers.allSatisfy { !Self.isRunning($0) } },
                      "workers running as nobody exit once their master is gone: \(workers.filter(Self.isRunning))")
    }

    func testGracefulStopWhileASlotWaitsToRespawnLeavesTheMasterIdle() throws {
        let server = try ServerProcess(["--host", "127.0.0.1", "--workers", "2", "--graceful-timeout", "5"])
        XCTAssertTrue(ServerProcess.eventually { server.workerPIDs().count == 2 })
        let survivor = try XCTUnwrap(server.workerPIDs().min())
        try Self.crashLoop(server, sparing: survivor)
        // The backoff the master announced for the slot's last death, which it logged before
        // this read: the slot's respawn time is at most that long from now.
        let backoff = try Self.lastRespawnBackoff(in: server.standardError())
        let respawnPassed = Launch.now() + backoff
        // A request still arriving keeps the survivor (and so the master) in the drain.
        let slow = try TestClient(port: server.port)
        try slow.send("GET / HTTP/1.1\r\nHost: test\r\n")
        XCTAssertTrue(ServerProcess.eventually { slow.serverHasReadEverythingSent() }, "the survivor has the request in hand")
        kill(server.pid, SIGQUIT)
        // Not synchronisation but the scenario's clock: a respawn time left in the past is what
        // made the master's wait return at once, forever, so the window opens once it has passed.
        usleep(UInt32(max(0, respawnPassed - Launch.now()) * 1000))
        let meter = try SpinMeter(server.pid)
        usleep(1_000_000)  // the measuring window
        let (runnable, wall, share) = try meter.reading()
        // A master that spins on a respawn it will never do is runnable all along, however
        // loaded the machine; one that waits is runnable for a few wake-ups.
        XCTAssertLessThan(share, 0.3, "the master was runnable \(runnable) ms of \(wall) ms of draining")
        XCTAssertFalse(server.standardError().contains("worker started"), "the slot still waited to respawn when QUIT came")
        try slow.send("\r\n")
        XCTAssertEqual(try slow.readResponse().header("Connection"), "close")
        XCTAssertEqual(server.waitForExit(timeoutMilliseconds: 5000).flatMap(exitCode(ofWaitStatus:)), 0)
    }

    func testTTOUOfASlotWaitingToRespawnServesTheConnectionsQueuedOnItsSocket() throws {
        let server = try ServerProcess(["--host", "127.0.0.1", "--workers", "2", "--reuseport", "--graceful-timeout", "3"])
        XCTAssertTrue(ServerProcess.eventually { server.workerPIDs().count == 2 })
        // Slot 0 forks first; the slot being removed by TTOU is the last one.
        let survivor = try XCTUnwrap(server.workerPIDs().min())
        try Self.crashLoop(server, sparing: survivor)
        // The kernel hashes about half of these to the empty slot's socket, where they wait.
        let clients = try (0..<16).map { _ in try TestClient(port: server.port) }
        for client in clients { try client.send("GET / HTTP/1.1\r\nHost: test\r\n\r\n") }
        XCTAssertTrue(ServerProcess.eventually {
            let rows = TCPSocketRow.all()
            return clients.allSatisfy { $0.serverEndIsEstablished(in: rows) }
        }, "every connection is queued on a socket or served (the deferred accept has its data)")
        kill(server.pid, SIGTTOU)
        var servedBy = Set<pid_t>()
        var failures: [String] = []
        for client in clients {
            do {
                let response = try client.readResponse()
                if response.status != 200 { failures.append("status \(response.status)") }
                servedBy.insert(response.servedBy ?? -1)
            } catch {
                failures.append("\(error)")
            }
        }
        XCTAssertEqual(failures, [], "no queued connection is reset when its socket retires")
        XCTAssertGreaterThan(servedBy.subtracting([survivor]).count, 0,
                             "some connections waited on the retired socket and were served there: \(servedBy)")
        XCTAssertTrue(ServerProcess.eventually { server.workerPIDs() == [survivor] }, "\(server.workerPIDs())")
        XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
    }

    func testSocketActivationOfSeveralSocketsWithoutReuseportIsRefused() throws {
        let (first, _) = try LifecycleTests.listeningSocket()
        defer { close(first) }
        let (second, _) = try LifecycleTests.listeningSocket()
        defer { close(second) }
        let launched = try Launch.run("/bin/sh", ["-c", "export LISTEN_PID=$$ LISTEN_FDS=2; exec \"$@\"", "sh",
                                                  ServerProcess.executablePath, "--workers", "2"],
                                      newProcessGroup: true, passing: [first, second])
        defer { close(launched.stdout); close(launched.stderr) }
        let status = Launch.waitForExit(launched.pid, timeoutMilliseconds: 10_000)
        if status == nil { killpg(launched.pid, SIGKILL) }
        XCTAssertNotEqual(status.flatMap(exitCode(ofWaitStatus:)), 0, "the server refuses to start")
        let errors = Launch.readAvailable(from: launched.stderr)
        XCTAssertTrue(errors.contains("LISTEN_FDS") && errors.contains("--reuseport"), errors)
        XCTAssertEqual(errors.split(separator: "\n").count, 1, "one line: \(errors)")
    }

    // MARK: Helpers

    /// Kills whatever worker replaces the one in the other slot as soon as it appears,
    /// six times, so that slot waits out a respawn backoff (800 ms or more) when this returns.
    /// Seven quick deaths: the slot's backoff reaches 3.2 s (100 ms doubled from the second),
    /// room for a loaded machine to set up the rest of the scenario before it respawns.
    private static func crashLoop(_ server: ServerProcess, sparing survivor: pid_t) throws {
        var killed = Set<pid_t>()
        let deadline = Launch.now() + 12_000
        while killed.count < 7 && Launch.now() < deadline {
            for pid in server.workerPIDs() where pid != survivor && !killed.contains(pid) {
                kill(pid, SIGKILL)
                killed.insert(pid)
            }
            usleep(2_000)
        }
        guard killed.count == 7 else { throw LaunchError("the crash loop killed only \(killed.count) workers") }
        XCTAssertTrue(ServerProcess.eventually(timeoutMilliseconds: 500) { server.workerPIDs() == [survivor] },
                      "the other slot is empty, waiting to respawn")
    }

    /// The delay of the last "starting a replacement in slot N in D ms" the master logged.
    private static func lastRespawnBackoff(in log: String) throws -> Int {
        let delays = log.split(separator: "\n").compactMap { line -> Int? in
            guard let range = line.range(of: "starting a replacement in slot ") else { return nil }
            let words = line[range.upperBound...].split(separator: " ")
            return words.count > 2 && words[1] == "in" ? Int(words[2]) : nil
        }
        guard let last = delays.last else { throw LaunchError("no respawn backoff in the master's log: \(log)") }
        return last
    }

    /// Alive and not a zombie waiting for some reaper.
    private static func isRunning(_ pid: pid_t) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return false }
        guard let close = stat.lastIndex(of: ")") else { return false }
        return !stat[stat.index(close, offsetBy: 2)...].hasPrefix("Z")
    }
}

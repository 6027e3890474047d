// Running it in production: every operation an operator performs on a live
// server (graceful stop, rolling restart, resize, binary upgrade, a stuck
// worker replaced) completes while a client keeps requests flowing, with no
// failed request and no connection reset, with a shared listener and with
// one SO_REUSEPORT socket per worker.
import Glibc
import TestSupport
import XCTest

final class LifecycleTests: XCTestCase {
    private static let modes: [(name: String, flags: [String])] = [("shared listener", []), ("reuseport", ["--reuseport"])]

    private func start(_ flags: [String], workers: Int = 2) throws -> ServerProcess {
        let server = try ServerProcess(["--host", "127.0.0.1", "--workers", "\(workers)", "--graceful-timeout", "3"] + flags)
        XCTAssertTrue(ServerProcess.eventually { server.workerPIDs().count == workers }, "\(flags): workers started")
        return server
    }

    private func assertClean(_ report: LoadClient.Report, _ mode: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertGreaterThan(report.requests, 20, "\(mode): requests kept flowing: \(report)", file: file, line: line)
        XCTAssertEqual(report.resets, 0, "\(mode): \(report)", file: file, line: line)
        XCTAssertEqual(report.failures, [], "\(mode): \(report)", file: file, line: line)
    }

    func testHUPReplacesEveryWorkerWithoutAFailedRequest() throws {
        for mode in Self.modes {
            let server = try start(mode.flags)
            let old = server.workerPIDs()
            let load = LoadClient(port: server.port)
            load.waitForRequests(50)
            kill(server.pid, SIGHUP)
            XCTAssertTrue(ServerProcess.eventually {
                let now = server.workerPIDs()
                return now.count == 2 && now.isDisjoint(with: old) && old.allSatisfy { !processExists($0) }
            }, "\(mode.name): fresh workers replaced \(old), now \(server.workerPIDs())")
            load.waitForRequests(50)
            let report = load.stop()
            assertClean(report, mode.name)
            XCTAssertFalse(report.servedBy.isDisjoint(with: server.workerPIDs()), "\(mode.name): the fresh workers serve")
            XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
        }
    }

    func testTTINAndTTOUResizeTheServerWithoutAFailedRequest() throws {
        for mode in Self.modes {
            let server = try start(mode.flags)
            let load = LoadClient(port: server.port)
            load.waitForRequests(50)
            kill(server.pid, SIGTTIN)
            XCTAssertTrue(ServerProcess.eventually { server.workerPIDs().count == 3 }, "\(mode.name): one more worker")
            XCTAssertTrue(ServerProcess.eventually { Self.workers(in: server).map { $0 == (3, 3) } ?? false }, "\(mode.name): /metrics shows it")
            load.waitForRequests(50)
            kill(server.pid, SIGTTOU)
            XCTAssertTrue(ServerProcess.eventually { server.workerPIDs().count == 2 }, "\(mode.name): one fewer")
            XCTAssertTrue(ServerProcess.eventually { Self.workers(in: server).map { $0 == (2, 2) } ?? false }, "\(mode.name): /metrics shows it")
            kill(server.pid, SIGTTOU)
            XCTAssertTrue(ServerProcess.eventually { server.workerPIDs().count == 1 }, "\(mode.name): down to one")
            kill(server.pid, SIGTTOU)
            load.waitForRequests(50)
            XCTAssertEqual(server.workerPIDs().count, 1, "\(mode.name): never below one worker")
            let report = load.stop()
            assertClean(report, mode.name)
            XCTAssertTrue(server.standardError().contains("already at one worker"), mode.name)
            XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
        }
    }

    /// The worker count /metrics reports (workers running, workers wanted), from whichever worker answers.
    private static func workers(in server: ServerProcess) -> (Double, Double)? {
        guard let response = try? TestClient(port: server.port).get("/metrics"),
              let metrics = try? PrometheusText(response.body),
              let running = metrics.value("prefork_workers"), let wanted = metrics.value("prefork_workers_wanted")
        else { return nil }
        return (running, wanted)
    }

    func testQUITLetsSlowInFlightRequestsFinishThenExits() throws {
        for mode in Self.modes {
            let server = try start(mode.flags)
            let load = LoadClient(port: server.port, keepAliveClients: 2, freshConnectionClients: 0)
            // A request whose head is still arriving, and one whose body is.
            let slowHead = try TestClient(port: server.port)
            try slowHead.send("GET / HTTP/1.1\r\nHost: test\r\n")
            let slowBody = try TestClient(port: server.port)
            try slowBody.send("POST / HTTP/1.1\r\nHost: test\r\nContent-Length: 4\r\n\r\nab")
            let idle = try TestClient(port: server.port)
            XCTAssertEqual(try idle.get("/").status, 200)
            load.waitForRequests(50)
            XCTAssertTrue(ServerProcess.eventually { slowHead.serverHasReadEverythingSent() && slowBody.serverHasReadEverythingSent() },
                          "\(mode.name): the workers have both slow requests in hand")
            let workers = server.workerPIDs()
            load.allowRefusals()
            kill(server.pid, SIGQUIT)
            // The drain has begun once the idle connection is closed; the master must still be there.
            XCTAssertTrue(idle.readsEndOfStream(), "\(mode.name): an idle keep-alive connection is closed")
            // That was one worker's drain: the other may not have taken its QUIT yet, and a
            // request it completes before then is answered as any other. Once the master and
            // the workers are all asleep again, each has acted on its signal.
            XCTAssertTrue(ServerProcess.eventually { ProcessActivity.isAtRest(server.pid) }, "\(mode.name): every worker drains")
            XCTAssertTrue(processExists(server.pid) && !Self.isZombie(server.pid), "\(mode.name): the master waits for the requests in flight")
            try slowHead.send("\r\n")
            let head = try slowHead.readResponse()
            XCTAssertEqual(head.status, 200, mode.name)
            XCTAssertEqual(head.header("Connection"), "close", mode.name)
            try slowBody.send("cd")
            let body = try slowBody.readResponse()
            XCTAssertEqual(body.status, 405, "\(mode.name): answered (the built-in routes take no POST)")
            XCTAssertEqual(body.header("Connection"), "close", mode.name)
            let status = server.waitForExit(timeoutMilliseconds: 5000)
            XCTAssertEqual(status.flatMap(exitCode(ofWaitStatus:)), 0, "\(mode.name): exits once all are done")
            for worker in workers { XCTAssertFalse(processExists(worker), "\(mode.name): worker \(worker) exited") }
            assertClean(load.stop(), mode.name)
        }
    }

    func testQUITClosesWhatIsLeftAfterTheGracefulTimeout() throws {
        let server = try ServerProcess(["--host", "127.0.0.1", "--workers", "1", "--graceful-timeout", "0.5"])
        let stuck = try TestClient(port: server.port)
        try stuck.send("GET / HTTP/1.1\r\nHost: test\r\n")
        XCTAssertTrue(ServerProcess.eventually { stuck.serverHasReadEverythingSent() }, "the worker has the half request")
        let started = Launch.now()
        kill(server.pid, SIGQUIT)
        XCTAssertEqual(server.waitForExit(timeoutMilliseconds: 5000).flatMap(exitCode(ofWaitStatus:)), 0)
        XCTAssertLessThan(Launch.now() - started, 3000, "the drain ends at --graceful-timeout")
        XCTAssertTrue(stuck.readsEndOfStream())
    }

    func testUSR2UpgradesToANewMasterThenTheOldOneExits() throws {
        for mode in Self.modes {
            let directory = NSTemporaryDirectory() + "lifecycle-\(getpid())-\(mode.flags.count)"
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let pidFile = directory + "/server.pid"
            let server = try start(mode.flags + ["--pid-file", pidFile])
            XCTAssertEqual(Self.pid(in: pidFile), server.pid, "\(mode.name): the pid file names the master")
            let oldWorkers = server.workerPIDs()
            let load = LoadClient(port: server.port)
            load.waitForRequests(50)
            kill(server.pid, SIGUSR2)
            var newMaster: pid_t?
            XCTAssertTrue(ServerProcess.eventually {
                newMaster = Self.pid(in: pidFile)
                return newMaster != nil && newMaster != server.pid
            }, "\(mode.name): the new master writes the pid file")
            defer { if let newMaster { Self.terminate(newMaster) } }
            let status = server.waitForExit(timeoutMilliseconds: 10_000)
            XCTAssertEqual(status.flatMap(exitCode(ofWaitStatus:)), 0, "\(mode.name): the old master exits by itself")
            for worker in oldWorkers { XCTAssertFalse(processExists(worker), "\(mode.name): old worker \(worker) exited") }
            load.waitForRequests(50)
            let report = load.stop()
            assertClean(report, mode.name)
            XCTAssertEqual(Self.pid(in: pidFile), newMaster, "\(mode.name): the old master left the new one's pid file")
            XCTAssertFalse(FileManager.default.fileExists(atPath: pidFile + ".oldbin"), mode.name)
            let servedByNew = try TestClient(port: server.port).get("/").servedBy
            XCTAssertFalse(oldWorkers.contains(servedByNew ?? 0), mode.name)
            if let newMaster {
                kill(newMaster, SIGTERM)
                XCTAssertTrue(ServerProcess.eventually { !FileManager.default.fileExists(atPath: pidFile) },
                              "\(mode.name): the pid file is removed on exit")
            }
        }
    }

    func testStuckWorkerIsKilledAndReplacedAfterWorkerTimeout() throws {
        for mode in Self.modes {
            let server = try start(mode.flags + ["--worker-timeout", "0.6"])
            let load = LoadClient(port: server.port, keepAliveClients: 0, freshConnectionClients: 2)
            load.waitForRequests(20)
            let victim = try XCTUnwrap(server.workerPIDs().first)
            kill(victim, SIGSTOP)
            let held = try connectionsHeld(byStopped: victim)
            XCTAssertTrue(ServerProcess.eventually(timeoutMilliseconds: 5000) {
                let workers = server.workerPIDs()
                return !workers.contains(victim) && workers.count == 2
            }, "\(mode.name): the stopped worker is replaced")
            load.waitForRequests(50)
            assertOnlyHeldConnectionsFailed(load.stop(), held: held, mode.name)
            let log = server.standardError()
            XCTAssertTrue(log.contains("worker \(victim) in slot"), "\(mode.name): \(log)")
            XCTAssertTrue(log.contains("has not turned its event loop"), mode.name)
            XCTAssertTrue(log.contains("worker \(victim) exited (killed by SIGKILL: the watchdog"), "\(mode.name): \(log)")
            XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
        }
    }

    func testTheWatchdogsKillEndsOnlyTheConnectionsTheStuckWorkerHeld() throws {
        for mode in Self.modes {
            let server = try start(mode.flags + ["--worker-timeout", "0.6"])
            let stranded = try TestClient(port: server.port)
            try stranded.send("GET / HTTP/1.1\r\nHost: test\r\n")
            XCTAssertTrue(ServerProcess.eventually { stranded.serverHasReadEverythingSent() }, mode.name)
            let inode = try XCTUnwrap(stranded.serverEnd()?.inode)
            let victim = try XCTUnwrap(server.workerPIDs().first { TCPSocketRow.connections(heldBy: $0).contains { $0.inode == inode } },
                                       "\(mode.name): a worker holds the request")
            let load = LoadClient(port: server.port, keepAliveClients: 0, freshConnectionClients: 2)
            load.waitForRequests(20)
            kill(victim, SIGSTOP)
            let held = try connectionsHeld(byStopped: victim)
            XCTAssertTrue(ServerProcess.eventually(timeoutMilliseconds: 5000) { !server.workerPIDs().contains(victim) },
                          "\(mode.name): the stopped worker is killed")
            // Whatever a stuck worker holds is lost with it; nothing it does not hold is.
            XCTAssertTrue(stranded.serverClosesWhileDraining(), "\(mode.name): the request it held ends with it")
            load.waitForRequests(50)
            assertOnlyHeldConnectionsFailed(load.stop(), held: held, mode.name)
            XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
        }
    }

    /// The client ports of the connections `victim` holds once SIGSTOP has stopped it.
    private func connectionsHeld(byStopped victim: pid_t) throws -> Set<Int> {
        // A process that will act on a signal is runnable when kill(2) returns; a stopped one is at rest.
        XCTAssertTrue(ServerProcess.eventually { ProcessActivity.isAtRest(victim) }, "worker \(victim) stopped")
        return Set(TCPSocketRow.connections(heldBy: victim).map(\.remotePort))
    }

    /// Requests kept flowing, and every one that failed was on a connection the stuck worker held
    /// when it stopped: those are lost with it (the watchdog's SIGKILL closes them), and only those.
    private func assertOnlyHeldConnectionsFailed(_ report: LoadClient.Report, held: Set<Int>, _ mode: String,
                                                 file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertGreaterThan(report.requests, 20, "\(mode): requests kept flowing: \(report)", file: file, line: line)
        XCTAssertTrue(report.failedOn.allSatisfy { $0.map(held.contains) ?? false },
                      "\(mode): \(report) on \(report.failedOn), the stuck worker held \(held)", file: file, line: line)
    }

    func testServesASocketPassedBySocketActivation() throws {
        let (fd, port) = try Self.listeningSocket()
        defer { close(fd) }
        let server = try ServerProcess(["--host", "127.0.0.1", "--workers", "2"], activatedSocket: fd)
        XCTAssertEqual(server.port, port, server.startupLine)
        XCTAssertTrue(server.startupLine.contains("socket activation"), server.startupLine)
        close(fd)  // the server holds its own copy now
        let load = LoadClient(port: port)
        load.waitForRequests(50)
        assertClean(load.stop(), "socket activation")
        XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
    }

    func testWorkersRunAsTheUserGivenByUser() throws {
        try XCTSkipIf(getuid() != 0, "dropping to another user needs root")
        let server = try ServerProcess(["--host", "127.0.0.1", "--workers", "1", "--user", "nobody"])
        let worker = try XCTUnwrap(server.onlyWorkerPID())
        XCTAssertEqual(try TestClient(port: server.port).get("/").status, 200)
        XCTAssertEqual(Self.uid(of: worker), 65534, "the worker runs as nobody")
        XCTAssertEqual(Self.uid(of: server.pid), 0, "the master stays root")
        XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
    }

    // MARK: Helpers

    private static func pid(in file: String) -> pid_t? {
        (try? String(contentsOfFile: file, encoding: .utf8)).flatMap { pid_t($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }

    private static func uid(of pid: pid_t) -> Int? {
        let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("Uid:") }
        return line.flatMap { $0.split(whereSeparator: { $0 == "\t" || $0 == " " }).dropFirst().first }.flatMap { Int($0) }
    }

    /// Stops a master that is not this process's child (a new master is the old one's).
    private static func terminate(_ pid: pid_t) {
        guard processExists(pid) else { return }
        kill(pid, SIGTERM)
        if !ServerProcess.eventually(timeoutMilliseconds: 5000, { !processExists(pid) || isZombie(pid) }) { kill(pid, SIGKILL) }
    }

    private static func isZombie(_ pid: pid_t) -> Bool {
        let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
        guard let close = stat.lastIndex(of: ")") else { return true }
        return stat[stat.index(close, offsetBy: 2)...].hasPrefix("Z")
    }

    /// A listening TCP socket on 127.0.0.1 and a free port, as a socket unit would make it.
    static func listeningSocket() throws -> (Int32, Int) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var on: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        inet_pton(AF_INET, "127.0.0.1", &address.sin_addr)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound, listen(fd, 128) == 0 else { throw LaunchError("cannot listen: errno \(errno)") }
        return (fd, Int(UInt16(bigEndian: address.sin_port)))
    }
}

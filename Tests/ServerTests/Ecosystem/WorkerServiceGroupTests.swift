// A swift-service-lifecycle ServiceGroup per worker (example-server with
// EXAMPLE_WORKER_SERVICE=1: ExampleHeartbeat in each worker's group): it starts
// in every worker, after fork, and on QUIT stops gracefully once the worker's
// connections are done, with the request in flight answered. In process: the
// master's fork check counts threads from /proc/self/task and refuses to fork
// from a process with more than one (this test process has several).
import Glibc
import TestSupport
import XCTest

@testable import Server
@testable import ServerSystem

final class WorkerServiceGroupTests: XCTestCase {
    func testTheServiceGroupStartsInEachWorkerAndStopsOnQuitWithNoRequestLost() throws {
        setenv("EXAMPLE_WORKER_SERVICE", "1", 1)
        defer { unsetenv("EXAMPLE_WORKER_SERVICE") }
        let server = try ServerProcess(["--host", "127.0.0.1", "--workers", "2"], executable: "example-server")
        var log = ""
        XCTAssertTrue(ServerProcess.eventually {
            log += server.standardError()
            return server.workerPIDs().count == 2
                && server.workerPIDs().allSatisfy { log.contains("example heartbeat running in worker \($0)") }
        }, "each worker runs the service: \(log)")
        let workers = server.workerPIDs()

        // A request in flight when QUIT arrives is answered before the services stop.
        // Pipelined behind an inline one: once that is answered, the server holds the slow one.
        let slow = try TestClient(port: server.port)
        try slow.send("GET /apps/inline HTTP/1.1\r\nHost: t\r\n\r\nGET /apps/async-sleep/300 HTTP/1.1\r\nHost: t\r\n\r\n")
        XCTAssertEqual(try slow.readResponse().body, "inline\n")
        kill(server.pid, SIGQUIT)
        let answer = try slow.readResponse()
        XCTAssertEqual(answer.status, 200)
        XCTAssertEqual(answer.body, "slept 300 ms\n")
        XCTAssertEqual(server.waitForExit(timeoutMilliseconds: 20_000).flatMap(exitCode(ofWaitStatus:)), 0)
        log += server.standardError()
        for worker in workers {
            XCTAssertTrue(log.contains("example heartbeat stopped in worker \(worker)"), "worker \(worker): \(log)")
            XCTAssertTrue(log.contains("pid=\(worker) role=worker slot=0 [ServerEcosystem] service group stopped")
                || log.contains("pid=\(worker) role=worker slot=1 [ServerEcosystem] service group stopped"), log)
        }
    }

    func testThreadsAreCountedFromProc() throws {
        let before = try ProcessThreads.count()
        XCTAssertGreaterThanOrEqual(before, 1)
        let started = Server.Semaphore()
        let release = Server.Semaphore()
        var thread = pthread_t()
        let box = Unmanaged.passRetained(Box(started, release))
        XCTAssertEqual(pthread_create(&thread, nil, { raw in
            let box = Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue()
            box.started.signal()
            box.release.wait()
            return nil
        }, box.toOpaque()), 0)
        started.wait()
        XCTAssertEqual(try ProcessThreads.count(), before + 1, "one more thread, one more entry")
        release.signal()
        pthread_join(thread, nil)
    }

    func testAMasterWithMoreThanOneThreadRefusesToFork() throws {
        // The test process runs XCTest's and Swift concurrency's threads.
        XCTAssertGreaterThan(try ProcessThreads.count(), 1)
        XCTAssertThrowsError(try SingleThreadedFork.check()) { error in
            let text = "\(error)"
            XCTAssertTrue(text.hasPrefix("refusing to fork: the master process has "), text)
            XCTAssertTrue(text.contains("threads, not 1"), text)
        }
    }
}

/// The two semaphores a test thread signals and waits on.
private final class Box: @unchecked Sendable {
    let started: Server.Semaphore
    let release: Server.Semaphore

    init(_ started: Server.Semaphore, _ release: Server.Semaphore) {
        self.started = started
        self.release = release
    }
}

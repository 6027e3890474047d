// Heap allocations of one request answered by an async route, whole, from the
// head's read to the answer's write: the hand-off (the owned copy, the task, whose
// jobs run on the loop's thread), the answer's way back, and the response. And the same
// for a route that streams its body (the reception, the body's chunk, the
// handler's iteration). Counted process-wide, so the task's own count too.
import Glibc
import Logging
@testable import Server
import TestSupport
import XCTest

final class ApplicationAllocationBenchmarks: XCTestCase {
    private static func router() -> Router {
        var router = Router()
        router.get("/async", .async { _ in Response(body: .text("async\n")) })
        router.post("/streamed", .async(maxBodySize: 1 << 20) { request in
            var count = 0
            for try await chunk in request.bodyChunks { count += chunk.count }
            return Response(body: .text(count == 5 ? "ok\n" : "wrong\n"))
        })
        return router
    }

    func testAllocationsPerAsyncRequest() throws {
        let deferral = try DeferredDispatch(threads: 1, logger: Logger(label: "benchmark"))
        defer { deferral.close() }
        let driver = ConnectionDriver(limits: RequestLimits(),
                                      writer: ResponseWriter(dateCache: DateCache(), serverName: "swift-prefork"),
                                      handler: Self.router(), logger: Logger(label: "benchmark"), deferral: deferral)
        let pair = try SocketPair()
        defer { pair.close() }
        let connection = Connection(socket: Socket(fd: pair.server), token: 1)
        var figures: [String] = []
        for (name, request) in [("async", "GET /async HTTP/1.1\r\nHost: x\r\n\r\n"),
                                ("async, streamed body", "POST /streamed HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello")] {
            let bytes = Array(request.utf8)
            var response = [UInt8](repeating: 0, count: 4096)
            func oneRequest() -> UInt64 {
                _ = bytes.withUnsafeBytes { write(pair.client, $0.baseAddress, $0.count) }
                let allocations = Measure.allocations {
                    _ = driver.readable(connection)
                    Self.deliver(deferral.completions, to: connection, through: driver)
                }
                let count = read(pair.client, &response, response.count)
                XCTAssertGreaterThan(count, 0)
                return allocations
            }
            for _ in 0..<100 { _ = oneRequest() }
            let total = (0..<1000).reduce(UInt64(0)) { total, _ in total + oneRequest() }
            figures.append("\(Measure.format(Double(total) / 1000, decimals: 1)) (\(name))")
        }
        Measure.report("allocations per application request", figures.joined(separator: ", "))
    }

    /// What the event loop does between epoll waits: runs the tasks' jobs queued for it,
    /// delivers answers and nudges, and waits on the eventfd only when nothing is queued.
    private static func deliver(_ queue: CompletionQueue, to connection: Connection<Socket>, through driver: ConnectionDriver) {
        var completions: [Completion] = []
        var jobs: [UnownedJob] = []
        while connection.awaitingHandler != nil || connection.reception != nil {
            if queue.loopWillWait() {
                var ready = pollfd(fd: queue.fd, events: Int16(POLLIN), revents: 0)
                guard poll(&ready, 1, 5000) > 0 else { return XCTFail("no completion within 5 s") }
            }
            queue.loopWoke()
            queue.take(completions: &completions, jobs: &jobs)
            let nudges = queue.takeNudges()
            queue.run(&jobs)
            for index in completions.indices { _ = driver.complete(connection, with: &completions[index]) }
            completions.removeAll(keepingCapacity: true)
            for _ in nudges { _ = driver.resume(connection) }
        }
    }
}

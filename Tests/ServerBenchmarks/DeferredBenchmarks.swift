// DeferredBenchmarks: what a request costs on the async and blocking paths,
// beside the inline path's zero (Benchmarks): heap allocations per request
// through the driver and the completion queue, counted in every thread of the
// process (the pool's too), with this thread acting as the worker's loop.
import Glibc
import Logging
import TestSupport
import XCTest

@testable import Server

final class DeferredBenchmarks: XCTestCase {
    private struct AsyncAnswer: AsyncHTTPHandler {
        func respond(to request: OwnedRequest) async throws -> Response { Response(body: .text("async\n")) }
    }

    private struct BlockingAnswer: BlockingHTTPHandler {
        func respond(to request: OwnedRequest) throws -> Response { Response(body: .text("blocking\n")) }
    }

    func testAllocationsPerRequestOnTheDeferredPaths() throws {
        try measureAllocations(handler: AsyncHandler(AsyncAnswer()), name: "allocations per request, async handler")
        try measureAllocations(handler: BlockingHandler(BlockingAnswer()), name: "allocations per request, blocking handler")
    }

    private func measureAllocations(handler: some HTTPHandler, name: String) throws {
        let deferral = try DeferredDispatch(threads: 1, logger: Logger(label: "benchmark"))
        defer { deferral.close() }
        let driver = ConnectionDriver(limits: RequestLimits(),
                                      writer: ResponseWriter(dateCache: DateCache(), serverName: "swift-prefork"),
                                      handler: handler, logger: Logger(label: "benchmark"), deferral: deferral)
        let pair = try SocketPair()
        defer { pair.close() }
        let connection = Connection(socket: Socket(fd: pair.server), token: 1)
        let queue = deferral.completions
        var completions: [Completion] = [], jobs: [UnownedJob] = []
        completions.reserveCapacity(16)
        jobs.reserveCapacity(16)
        var response = [UInt8](repeating: 0, count: 4096)
        var answered = 0
        /// One request: read and handed off, then what the loop does until its answer is written
        /// (run the task's jobs, take the answers, wait on the eventfd for a pool thread's).
        func oneRequest() -> UInt64 {
            _ = Benchmarks.wrkRequest.withUnsafeBytes { write(pair.client, $0.baseAddress, $0.count) }
            let allocations = Measure.allocations {
                _ = driver.readable(connection)
                for _ in 0..<1000 {
                    queue.wakeupSeen()
                    queue.take(completions: &completions, jobs: &jobs)
                    queue.run(&jobs)
                    if !completions.isEmpty {
                        _ = driver.complete(connection, with: &completions[0])
                        completions.removeAll(keepingCapacity: true)
                        answered += 1
                        return
                    }
                    var poller = pollfd(fd: queue.fd, events: Int16(POLLIN), revents: 0)
                    _ = poll(&poller, 1, 1000)
                }
            }
            _ = read(pair.client, &response, response.count)
            return allocations
        }
        for _ in 0..<100 { _ = oneRequest() }  // warm up: the pool's threads, lazily made state
        let total = (0..<1000).reduce(UInt64(0)) { sum, _ in sum + oneRequest() }
        XCTAssertEqual(answered, 1100, "every request was answered")
        Measure.report(name, "\(Measure.format(Double(total) / 1000, decimals: 1)) (keep-alive)\(Measure.buildNote)")
    }
}

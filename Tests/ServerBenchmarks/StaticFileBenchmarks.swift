// StaticFileBenchmarks: what a request for a 1 KiB file costs through a worker's
// request cycle (read, parse, the operations layer, the static file handler on an
// open-file cache hit, the head written with MSG_MORE, the body by sendfile) over
// a socketpair: nanoseconds and heap allocations per request. Figures only; the
// zero-allocation rule is for the in-memory path (Benchmarks.testAllocationsPerRequestOnTheHotPath).
import Foundation
import Glibc
import Logging
import Server
import StaticFiles
import TestSupport
import XCTest

final class StaticFileBenchmarks: XCTestCase {
    static let request = Array("GET /1k.bin HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n".utf8)

    func testAFileRequestThroughTheDriverOnACacheHit() throws {
        let directory = NSTemporaryDirectory() + "static-bench-\(getpid())"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try Data((0..<1024).map { UInt8(truncatingIfNeeded: $0) }).write(to: URL(fileURLWithPath: directory + "/1k.bin"))
        let files = StaticFileHandler(root: try RootDirectory(path: directory), next: BuiltinRoutes())
        let driver = ConnectionDriver(limits: RequestLimits(),
                                      writer: ResponseWriter(dateCache: DateCache(), serverName: "swift-prefork"),
                                      handler: OperationsRoutes(scoreboard: try Scoreboard(), next: files),
                                      logger: Logger(label: "benchmark"))
        let pair = try SocketPair()
        defer { pair.close() }
        let connection = Connection(socket: Socket(fd: pair.server), token: 1)
        var response = [UInt8](repeating: 0, count: 64 * 1024)
        func oneRequest() -> UInt64 {
            _ = Self.request.withUnsafeBytes { write(pair.client, $0.baseAddress, $0.count) }
            let allocations = Measure.allocationsOnThisThread { _ = driver.readable(connection) }
            var received = 0
            while received < 1024 + 100 {
                let count = read(pair.client, &response, response.count)
                guard count > 0 else { break }
                received += count
            }
            return allocations
        }
        for _ in 0..<100 { _ = oneRequest() }  // the first opens the file; the rest are hits
        let allocations = (0..<1000).reduce(UInt64(0)) { total, _ in total + oneRequest() }
        let nanoseconds = Measure.medianNanoseconds(iterations: 20_000) { iterations in
            for _ in 0..<iterations { _ = oneRequest() }
        }
        XCTAssertGreaterThan(allocations, 0, "the counter counts")
        Measure.report("static 1 KiB file, cache hit, through the driver",
                       "\(Measure.format(nanoseconds)) ns/request, \(Measure.format(Double(allocations) / 1000, decimals: 1)) allocations/request\(Measure.buildNote)")
    }
}

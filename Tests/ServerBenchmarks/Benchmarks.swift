// Micro benchmarks of the hot path: parsing, serialising, the allocations one
// request costs, and round trips through a real worker. They print figures
// (`benchmark NAME: ...`) and assert no times; see README for release-mode runs.
import Glibc
import Logging
import Server
import TestSupport
import XCTest

final class Benchmarks: XCTestCase {
    /// What Chrome sends for a plain navigation, about 500 bytes.
    static let browserRequest = Array("""
        GET /index.html?lang=en HTTP/1.1\r
        Host: www.example.com\r
        Connection: keep-alive\r
        Cache-Control: max-age=0\r
        sec-ch-ua: "Chromium";v="130", "Google Chrome";v="130", "Not?A_Brand";v="99"\r
        sec-ch-ua-mobile: ?0\r
        sec-ch-ua-platform: "Linux"\r
        Upgrade-Insecure-Requests: 1\r
        User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36\r
        Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8\r
        Accept-Encoding: gzip, deflate, br, zstd\r
        Accept-Language: en-US,en;q=0.9\r
        Cookie: session=7f3a9c2e4b1d; theme=dark\r
        \r

        """.utf8)

    static let wrkRequest = Array("GET / HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n".utf8)

    func testParsingABrowserRequest() {
        let parser = RequestParser(limits: RequestLimits())
        let fields = HeaderStorage(limits: parser.limits)
        let request = Self.browserRequest
        var parsedBytes = 0
        let nanoseconds = request.withUnsafeBytes { bytes in
            Measure.medianNanoseconds(iterations: 200_000) { iterations in
                for _ in 0..<iterations {
                    var scanned = ParseProgress()
                    if case .complete(let head) = parser.parse(bytes, progress: &scanned, fields: fields.buffer) { parsedBytes &+= head.totalLength }
                }
            }
        }
        XCTAssertGreaterThan(parsedBytes, 0, "the request parses")
        let megabytesPerSecond = Double(request.count) / nanoseconds * 1e9 / 1e6
        Measure.report("parse browser request (\(request.count) bytes)",
                       "\(Measure.format(nanoseconds)) ns/request, \(Measure.format(megabytesPerSecond, decimals: 0)) MB/s\(Measure.buildNote)")
    }

    func testSerialisingAResponse() {
        let writer = ResponseWriter(dateCache: DateCache(), serverName: "swift-prefork")
        let parser = RequestParser(limits: RequestLimits())
        let fields = HeaderStorage(limits: parser.limits)
        let output = ByteBuffer(capacity: 64 * 1024)
        let body = ResponseBody.bytes(Array("pid 12345\n".utf8))
        let nanoseconds = Self.wrkRequest.withUnsafeBytes { bytes -> Double in
            var scanned = ParseProgress()
            guard case .complete(let head) = parser.parse(bytes, progress: &scanned, fields: fields.buffer) else { return .nan }
            return Measure.medianNanoseconds(iterations: 500_000) { iterations in
                for _ in 0..<iterations {
                    writer.write(Response(body: body), for: head, keepAlive: true, into: output)
                    output.clear()
                }
            }
        }
        XCTAssertFalse(nanoseconds.isNaN)
        Measure.report("serialise 200 response", "\(Measure.format(nanoseconds)) ns/response\(Measure.buildNote)")
    }

    /// A driver as a worker builds it: the operations layer (/metrics, /health) in
    /// front of the built-in routes, and optionally an access log.
    private static func workerDriver(accessLog: AccessLog? = nil, operations: Bool = true) throws -> ConnectionDriver {
        let handler: any HTTPHandler = operations ? OperationsRoutes(scoreboard: try Scoreboard(), next: BuiltinRoutes()) : BuiltinRoutes()
        return ConnectionDriver(limits: RequestLimits(),
                                writer: ResponseWriter(dateCache: DateCache(), serverName: "swift-prefork"),
                                handler: handler, logger: Logger(label: "benchmark"), accessLog: accessLog)
    }

    /// An access log writing to /dev/null: what it costs to form and buffer the lines.
    private static func nullAccessLog() throws -> AccessLog? {
        try AccessLog.open(.file("/dev/null"), logger: Logger(label: "benchmark"))
    }

    /// One request through a worker's request cycle (read, parse, handle,
    /// serialise, write) over a socketpair, counting heap allocations inside it.
    func testAllocationsPerRequestOnTheHotPath() throws {
        try measureAllocations(driver: Self.workerDriver(), name: "allocations per request")
        let log = try Self.nullAccessLog()
        try measureAllocations(driver: Self.workerDriver(accessLog: log), name: "allocations per request, access log on")
        log?.close()
    }

    private func measureAllocations(driver: ConnectionDriver, name: String) throws {
        let pair = try SocketPair()
        defer { pair.close() }
        let connection = Connection(socket: Socket(fd: pair.server), token: 1)
        var response = [UInt8](repeating: 0, count: 4096)
        func oneRequest(pipelined depth: Int) -> UInt64 {
            let requests = Array([[UInt8]](repeating: Self.wrkRequest, count: depth).joined())
            _ = requests.withUnsafeBytes { write(pair.client, $0.baseAddress, $0.count) }
            let allocations = Measure.allocationsOnThisThread { _ = driver.readable(connection) }
            _ = read(pair.client, &response, response.count)
            return allocations
        }
        // The counter must see an allocation when there is one, or a zero below would prove nothing.
        let control = Measure.allocationsOnThisThread { Self.keep(ByteBuffer(capacity: 64)) }
        Self.kept = nil
        XCTAssertGreaterThanOrEqual(control, 2, "a new ByteBuffer (object + storage) is counted")
        for _ in 0..<100 { _ = oneRequest(pipelined: 1) }  // warm up lazily initialised state
        let single = (0..<1000).reduce(UInt64(0)) { total, _ in total + oneRequest(pipelined: 1) }
        let pipelined = (0..<1000).reduce(UInt64(0)) { total, _ in total + oneRequest(pipelined: 16) }
        Measure.report(name,
                       "\(Measure.format(Double(single) / 1000, decimals: 3)) (keep-alive), "
                       + "\(Measure.format(Double(pipelined) / 16_000, decimals: 3)) (pipelined 16 deep)")
    }

    /// Nanoseconds per request through the driver over a socketpair, 16 requests
    /// per write so the two syscalls weigh less: the built-in routes alone, behind
    /// the operations layer (as a worker runs them), and with the access log on.
    func testRequestCycleThroughTheDriver() throws {
        let log = try Self.nullAccessLog()
        defer { log?.close() }
        let variants: [(String, ConnectionDriver)] = [
            ("built-in routes only", try Self.workerDriver(operations: false)),
            ("operations layer, access log off", try Self.workerDriver()),
            ("operations layer, access log on", try Self.workerDriver(accessLog: log)),
        ]
        let pair = try SocketPair()
        defer { pair.close() }
        let connection = Connection(socket: Socket(fd: pair.server), token: 1)
        let batch = Array([[UInt8]](repeating: Self.wrkRequest, count: 16).joined())
        var response = [UInt8](repeating: 0, count: 64 * 1024)
        for (name, driver) in variants {
            let nanoseconds = Measure.medianNanoseconds(iterations: 20_000) { iterations in
                for _ in 0..<iterations / 16 {
                    _ = batch.withUnsafeBytes { write(pair.client, $0.baseAddress, $0.count) }
                    _ = driver.readable(connection)
                    _ = read(pair.client, &response, response.count)
                }
            }
            Measure.report("request cycle, \(name)", "\(Measure.format(nanoseconds)) ns/request (pipelined 16 deep)\(Measure.buildNote)")
        }
    }

    /// Requests per second through one real worker process over loopback: one
    /// keep-alive connection, one request at a time, and 16-deep pipelining.
    /// The client sends fixed bytes and reads a known number of bytes back, so
    /// it costs little next to the server.
    func testLoopbackRoundTripsThroughOneWorker() throws {
        let server = try ServerProcess(["--host", "127.0.0.1", "--workers", "1"])
        let client = try TestClient(port: server.port)
        let first = try client.get("/")
        let responseLength = first.statusLine.utf8.count + 2
            + first.headers.reduce(0) { $0 + $1.name.utf8.count + 2 + $1.value.utf8.count + 2 } + 2 + first.body.utf8.count
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        func roundTrip(depth: Int) throws -> Int {
            let batch = Array([[UInt8]](repeating: Self.wrkRequest, count: depth).joined())
            try client.send(batch)
            var received = 0
            while received < responseLength * depth {
                let count = recv(client.fd, &buffer, buffer.count, 0)
                guard count > 0 else { throw LaunchError("recv: \(count), errno \(errno)") }
                received += count
            }
            XCTAssertEqual(received, responseLength * depth, "responses have the length of the first")
            return depth
        }
        let oneAtATime = try Self.requestsPerSecond(seconds: 1.0) { try roundTrip(depth: 1) }
        let pipelined = try Self.requestsPerSecond(seconds: 1.0) { try roundTrip(depth: 16) }
        Measure.report("loopback round trips, 1 worker",
                       "\(Measure.format(oneAtATime, decimals: 0)) requests/s one at a time, "
                       + "\(Measure.format(pipelined, decimals: 0)) requests/s pipelined 16 deep\(Measure.buildNote)")
        XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
    }

    /// Somewhere to store an object, so the optimiser can neither drop its allocation nor move it to the stack.
    nonisolated(unsafe) private static var kept: AnyObject?

    @inline(never)
    private static func keep(_ object: AnyObject) { kept = object }

    private static func requestsPerSecond(seconds: Double, _ step: () throws -> Int) throws -> Double {
        let start = Measure.nanoseconds()
        let end = start + UInt64(seconds * 1e9)
        var requests = 0
        while Measure.nanoseconds() < end { requests += try step() }
        return Double(requests) / (Double(Measure.nanoseconds() - start) / 1e9)
    }
}

// What each ServerEcosystem integration adds to a request, in heap allocations
// (the process-wide malloc counter), against the same request without it:
// request ids and a request span around an inline handler, and a handler
// written against swift-http-types against a plain async handler (the work a
// task runs: the owned request's conversion both ways). Off, neither request
// ids nor tracing wraps the handler: Benchmarks' hot-path count stays 0.
import CMallocCounter
import HTTPTypes
import Server
import ServerEcosystem
import Tracing
import XCTest

final class EcosystemBenchmarks: XCTestCase {
    private static let plain = "GET / HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n"
    private static let withID = "GET / HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nX-Request-Id: 7f3a9c2e-4b1d-11ee-be56-0242ac120002\r\n\r\n"
    private static let withTraceparent = "GET / HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n"
        + "traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\r\n\r\n"

    func testAllocationsOfRequestIDsAndTracingAroundAnInlineHandler() {
        let builtin = BuiltinRoutes()
        let rows: [(String, String, any HTTPHandler)] = [
            // Off, nothing wraps the handler (RequestTracing.wrap returns it itself): the bare handler.
            // Not `wrap` here: RequestTracingTests enables tracing for the whole test process.
            ("inline, integrations off", Self.plain, builtin),
            ("--request-id, id generated", Self.plain, RequestIDs(builtin)),
            ("--request-id, client's id kept", Self.withID, RequestIDs(builtin)),
            // No tracer bootstrapped: the no-op tracer, so this is the server's own share of a span.
            ("tracing on (no-op tracer), traceparent given", Self.withTraceparent, TracedHandler(builtin)),
        ]
        var measured: [String] = []
        for (name, text, handler) in rows {
            let allocations = Measure.allocations(of: text) { request in
                var response = Response()
                handler.respond(to: request, with: &response)
            }
            measured.append("\(name) \(Measure.format(allocations, decimals: 2))")
            if name == "inline, integrations off" { XCTAssertEqual(allocations, 0, "the handler alone allocates nothing") }
        }
        Measure.report("ecosystem allocations per request (handler call)", measured.joined(separator: ", "))
    }

    private struct PlainAsync: AsyncHTTPHandler {
        func respond(to request: OwnedRequest) async throws -> Response {
            Response(body: .text("hello\n"))
        }
    }

    private struct TypesHello: HTTPTypesHandler {
        func respond(to request: HTTPRequest, body: [UInt8]) async throws -> (HTTPResponse, [UInt8]) {
            var response = HTTPResponse(status: .ok)
            response.headerFields[.contentType] = "text/plain; charset=utf-8"
            return (response, Array("hello\n".utf8))
        }
    }

    func testAllocationsOfAnHTTPTypesHandlerAgainstAPlainAsyncOne() async throws {
        let owned = Self.owned(Benchmarks.browserRequest)
        let plain = PlainAsync()
        let adapter = HTTPTypesAdapter(TypesHello())
        let plainAllocations = try await Self.asyncAllocations { _ = try await plain.respond(to: owned) }
        let typesAllocations = try await Self.asyncAllocations { _ = try await adapter.respond(to: owned) }
        Measure.report("swift-http-types handler allocations per request (the task's work, browser request)",
                       "plain async handler \(Measure.format(plainAllocations, decimals: 2)), "
                       + "HTTPTypesAdapter \(Measure.format(typesAllocations, decimals: 2))")
        XCTAssertGreaterThan(typesAllocations, plainAllocations, "the conversion is counted")
    }

    // MARK: Helpers

    private static func asyncAllocations(_ body: () async throws -> Void) async throws -> Double {
        for _ in 0..<100 { try await body() }  // warm up
        let before = cmc_allocation_count()
        for _ in 0..<1000 { try await body() }
        return Double(cmc_allocation_count() - before) / 1000
    }

    private static func owned(_ bytes: [UInt8]) -> OwnedRequest {
        let parser = RequestParser(limits: RequestLimits())
        let fields = HeaderStorage(limits: parser.limits)
        return withExtendedLifetime(fields) {
            bytes.withUnsafeBytes { buffer in
                var progress = ParseProgress()
                guard case .complete(let head) = parser.parse(buffer, progress: &progress, fields: fields.buffer) else {
                    preconditionFailure("the request did not parse")
                }
                return OwnedRequest(Request(bytes: buffer, head: head, fields: UnsafeBufferPointer(fields.buffer)))
            }
        }
    }
}

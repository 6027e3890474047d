// RequestTracing in process, with swift-distributed-tracing's InMemoryTracer
// taught to read W3C `traceparent` (as a real tracer's propagator does): a
// request's server span continues the given trace (its trace id kept, the
// header's span id as its parent), for an inline handler and for async work,
// whose own spans are children of the request's; without traceparent the
// span starts a trace. Disabled, `wrap` returns the handler itself.
import InMemoryTracing
import Tracing
import XCTest

@testable import HTTP1
@testable import Server
@testable import ServerEcosystem

final class RequestTracingTests: XCTestCase {
    /// InstrumentationSystem may be bootstrapped once per process: one tracer for every test here.
    private static let tracer: InMemoryTracer = {
        let tracer = InMemoryTracer()
        InstrumentationSystem.bootstrap(W3CInMemoryTracer(tracer))
        RequestTracing.enable()
        return tracer
    }()

    private static let traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
    private static let parentSpanID = "00f067aa0ba902b7"
    private static let traceparent = "traceparent: 00-\(traceID)-\(parentSpanID)-01\r\n"

    func testAnInlineRequestsSpanContinuesTheGivenTraceparent() throws {
        let tracer = Self.tracer
        tracer.clearAll()
        let handler = TracedHandler(Inline())
        let response = Self.respond(handler, "GET /items/1 HTTP/1.1\r\nHost: t\r\n\(Self.traceparent)\r\n")
        XCTAssertEqual(response.status.code, 200)
        let spans = tracer.finishedSpans
        XCTAssertEqual(spans.count, 1)
        let span = try XCTUnwrap(spans.first)
        XCTAssertEqual(span.operationName, "GET")
        XCTAssertEqual(span.kind, .server)
        XCTAssertEqual(span.traceID, Self.traceID, "the trace id is kept")
        XCTAssertEqual(span.parentSpanID, Self.parentSpanID, "the caller's span is the parent")
        XCTAssertNotEqual(span.spanID, Self.parentSpanID, "a span of its own")
        XCTAssertEqual(span.attributes["http.request.method"]?.toSpanAttribute(), .string("GET"))
        XCTAssertEqual(span.attributes["url.path"]?.toSpanAttribute(), .string("/items/1"))
        XCTAssertEqual(span.attributes["http.response.status_code"]?.toSpanAttribute(), .int64(200))
    }

    func testAsyncWorkRunsInsideTheRequestsSpanWhichEndsWithTheAnswer() async throws {
        let tracer = Self.tracer
        tracer.clearAll()
        let handler = TracedHandler(AsyncHandler(Traced()))
        let (response, owned) = Self.respondDeferred(handler, "GET /work HTTP/1.1\r\nHost: t\r\n\(Self.traceparent)\r\n")
        XCTAssertTrue(tracer.finishedSpans.isEmpty, "the request's span is open while its work runs")
        guard case .task(let work)? = response.deferred else { return XCTFail("the answer is deferred") }
        let answer = await work(owned)
        XCTAssertEqual(answer.status.code, 503)
        let spans = tracer.finishedSpans
        XCTAssertEqual(spans.map(\.operationName), ["child work", "GET"])
        let (child, server) = (spans[0], spans[1])
        XCTAssertEqual(server.traceID, Self.traceID)
        XCTAssertEqual(server.parentSpanID, Self.parentSpanID)
        XCTAssertEqual(child.traceID, Self.traceID)
        XCTAssertEqual(child.parentSpanID, server.spanID, "the handler's span is a child of the request's")
        XCTAssertEqual(server.status?.code, .error, "a 5xx marks the server span as an error")
    }

    func testWithoutTraceparentTheSpanStartsATrace() {
        let tracer = Self.tracer
        tracer.clearAll()
        _ = Self.respond(TracedHandler(Inline()), "GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        XCTAssertEqual(tracer.finishedSpans.count, 1)
        XCTAssertNil(tracer.finishedSpans.first?.parentSpanID)
        XCTAssertNotEqual(tracer.finishedSpans.first?.traceID, Self.traceID)
    }

    // MARK: Helpers

    private struct Inline: HTTPHandler {
        func respond(to request: Request, with response: inout Response) {
            response.body = .text("ok\n")
        }
    }

    private struct Traced: AsyncHTTPHandler {
        func respond(to request: OwnedRequest) async throws -> Response {
            withSpan("child work") { _ in }
            return Response(status: .serviceUnavailable)
        }
    }

    private static func respond(_ handler: some HTTPHandler, _ text: String) -> Response {
        withParsed(text) { request in
            var response = Response()
            handler.respond(to: request, with: &response)
            return response
        }
    }

    private static func respondDeferred(_ handler: some HTTPHandler, _ text: String) -> (Response, OwnedRequest) {
        withParsed(text) { request in
            var response = Response()
            handler.respond(to: request, with: &response)
            return (response, OwnedRequest(request))
        }
    }

    private static func withParsed<Result>(_ text: String, _ body: (Request) -> Result) -> Result {
        let parser = RequestParser(limits: RequestLimits())
        let fields = HeaderStorage(limits: parser.limits)
        let bytes = Array(text.utf8)
        return withExtendedLifetime(fields) {
            bytes.withUnsafeBytes { buffer in
                var progress = ParseProgress()
                guard case .complete(let head) = parser.parse(buffer, progress: &progress, fields: fields.buffer) else {
                    preconditionFailure("the request did not parse: \(text)")
                }
                return body(Request(bytes: buffer, head: head, fields: UnsafeBufferPointer(fields.buffer)))
            }
        }
    }
}

/// InMemoryTracer with W3C Trace Context propagation (https://www.w3.org/TR/trace-context/ §3.2):
/// `traceparent: 00-<32 hex trace id>-<16 hex parent id>-<flags>` read into the in-memory span context.
private struct W3CInMemoryTracer: Tracer {
    let tracer: InMemoryTracer

    init(_ tracer: InMemoryTracer) {
        self.tracer = tracer
    }

    func startSpan<Instant: TracerInstant>(_ operationName: String, context: @autoclosure () -> ServiceContext,
                                           ofKind kind: SpanKind, at instant: @autoclosure () -> Instant,
                                           function: String, file fileID: String, line: UInt) -> InMemorySpan {
        tracer.startSpan(operationName, context: context(), ofKind: kind, at: instant(), function: function, file: fileID, line: line)
    }

    func extract<Carrier, Extract: Extractor>(_ carrier: Carrier, into context: inout ServiceContext, using extractor: Extract)
    where Extract.Carrier == Carrier {
        guard let header = extractor.extract(key: "traceparent", from: carrier) else { return }
        let parts = header.split(separator: "-")
        guard parts.count == 4, parts[0] == "00", parts[1].count == 32, parts[2].count == 16 else { return }
        context.inMemorySpanContext = InMemorySpanContext(traceID: String(parts[1]), spanID: String(parts[2]), parentSpanID: nil)
    }

    func inject<Carrier, Inject: Injector>(_ context: ServiceContext, into carrier: inout Carrier, using injector: Inject)
    where Inject.Carrier == Carrier {
        tracer.inject(context, into: &carrier, using: injector)
    }

    func forceFlush() {
        tracer.forceFlush()
    }
}

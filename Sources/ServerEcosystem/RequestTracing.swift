// RequestTracing: a server span per request with apple/swift-distributed-tracing,
// continuing the trace a client's W3C `traceparent` names (the tracer's own
// extract reads it, and `tracestate`, through RequestFieldsExtractor). Off by
// default: the server's handler is wrapped only after `enable()`, so with it
// off the inline path runs exactly as before (0 allocations per request).
import HTTP1
import Server
import Synchronization
import Tracing

public enum RequestTracing {
    private static let enabled = Atomic<Bool>(false)

    /// Turns request spans on; call after `InstrumentationSystem.bootstrap(_:)` with a tracer,
    /// before the server starts (handlers are wrapped when each worker makes its handler).
    public static func enable() {
        enabled.store(true, ordering: .relaxed)
    }

    public static var isEnabled: Bool { enabled.load(ordering: .relaxed) }

    /// `handler` traced when tracing is enabled, else `handler` itself.
    public static func wrap(_ handler: any HTTPHandler) -> any HTTPHandler {
        isEnabled ? TracedHandler(handler) : handler
    }
}

/// Runs `next` inside a server span: the span's context is the current `ServiceContext` of the
/// handler and of its deferred work (so their own spans are its children); it ends when the answer is made.
public struct TracedHandler: HTTPHandler {
    public let next: any HTTPHandler

    public init(_ next: any HTTPHandler) {
        self.next = next
    }

    // A streamed route behind this wrapper still streams (HTTPHandler.streamedBodyLimit).
    public var streamsRequestBodies: Bool { next.streamsRequestBodies }
    public func streamedBodyLimit(for request: Request) -> Int? { next.streamedBodyLimit(for: request) }

    public func respond(to request: Request, with response: inout Response) {
        var parent = ServiceContext.topLevel
        withExtendedLifetime(request) {
            InstrumentationSystem.instrument.extract(RequestFields(request), into: &parent, using: RequestFieldsExtractor())
        }
        let method = request.method.string
        // OpenTelemetry's HTTP server span: named for the method when no route template is known.
        let span = startSpan(method, context: parent, ofKind: .server)
        span.attributes["http.request.method"] = method
        span.attributes["url.path"] = request.path.string
        ServiceContext.$current.withValue(span.context) { next.respond(to: request, with: &response) }
        switch response.deferred {
        case .pool(let work)?:
            response.deferToPool { request in
                do {
                    let answer = try ServiceContext.$current.withValue(span.context) { try work(request) }
                    Self.end(span, status: answer.status.code)
                    return answer
                } catch {
                    Self.end(span, failedWith: error)
                    throw error
                }
            }
        case .task(let work)?:
            response.deferToTask { request in
                do {
                    let answer = try await ServiceContext.$current.withValue(span.context) { try await work(request) }
                    Self.end(span, status: answer.status.code)
                    return answer
                } catch {
                    Self.end(span, failedWith: error)
                    throw error
                }
            }
        case nil:
            Self.end(span, status: response.status.code)
        }
    }

    private static func end(_ span: any Tracing.Span, status: Int) {
        span.attributes["http.response.status_code"] = status
        // OpenTelemetry: a server span is an error for 5xx only (4xx is the client's).
        if status >= 500 { span.setStatus(SpanStatus(code: .error)) }
        span.end()
    }

    /// A handler that threw is answered 500 by the server (ThrowingWork): the span says so, with the error.
    private static func end(_ span: any Tracing.Span, failedWith error: any Error) {
        span.recordError(error)
        end(span, status: 500)
    }
}

/// The request's header fields as a tracing carrier. It views the connection's buffer, so it is
/// valid only during the synchronous `extract` call it is made for (an instrument must not keep it).
struct RequestFields: @unchecked Sendable {
    let request: Request

    init(_ request: Request) {
        self.request = request
    }
}

/// Reads a field of the request by name (ignoring case, RFC 9110 §5.1): `traceparent`, `tracestate`, ...
struct RequestFieldsExtractor: Extractor {
    func extract(key: String, from carrier: RequestFields) -> String? {
        let request = carrier.request
        for index in 0..<request.headerCount {
            let field = request.header(at: index)
            if field.name.bytes.elementsEqual(key.utf8, by: { Self.lower($0) == Self.lower($1) }) { return field.value.string }
        }
        return nil
    }

    private static func lower(_ byte: UInt8) -> UInt8 {
        byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte
    }
}

// RequestIDs: the handler that gives every request an id (`--request-id`): it
// picks the id (RequestID), binds the request's scope (RequestScope) around the
// handler and its deferred work so their logs carry it, and echoes it in the
// response's `X-Request-Id`, where the access log also reads it (the line's
// last field, ServerConfiguration.logsRequestIDs). Not installed unless asked
// for, so the inline path pays nothing when it is off.
import HTTP1
import Logging
import Server

public struct RequestIDs: HTTPHandler {
    public let next: any HTTPHandler
    private let logger: Logger

    /// - Parameter logger: what handlers' request loggers start from (their label and level).
    public init(_ next: any HTTPHandler, logger: Logger = RequestScope.fallbackLogger) {
        self.next = next
        self.logger = logger
    }

    // A streamed route behind this wrapper still streams (HTTPHandler.streamedBodyLimit).
    public var streamsRequestBodies: Bool { next.streamsRequestBodies }
    public func streamedBodyLimit(for request: Request) -> Int? { next.streamedBodyLimit(for: request) }

    public func respond(to request: Request, with response: inout Response) {
        let scope = RequestScope(id: RequestID.of(request), baseLogger: logger)
        RequestScope.$current.withValue(scope) { next.respond(to: request, with: &response) }
        let id = scope.id
        switch response.deferred {
        case .pool(let work)?:
            response.deferToPool { request in
                var answer = try RequestScope.$current.withValue(scope) { try work(request) }
                answer.addHeader("X-Request-Id", id)
                return answer
            }
        case .task(let work)?:
            response.deferToTask { request in
                var answer = try await RequestScope.$current.withValue(scope) { try await work(request) }
                answer.addHeader("X-Request-Id", id)
                return answer
            }
        case nil:
            response.addHeader("X-Request-Id", id)
        }
    }
}

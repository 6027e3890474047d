// RequestScope: what a handler's code can ask about the request it serves
// wherever it runs (inline, on the handler pool, in a task): its id and a
// swift-log `Logger` carrying it as the metadata `request-id`. Carried in a
// task-local value, which `RequestIDs` binds around the handler and its
// deferred work (a task-local binds on plain threads too, for the pool).
import HTTP1
import Logging

public struct RequestScope: Sendable {
    /// The request's id (`RequestID`).
    public let id: String
    let baseLogger: Logger

    /// The scope of the request being served on this thread or task; nil without `RequestIDs`.
    @TaskLocal public static var current: RequestScope?

    /// The logger handlers log through when no request id is given (`--request-id` off).
    public static let fallbackLogger = Logger(label: "request")

    /// The base logger with `request-id` metadata.
    public var logger: Logger {
        var logger = baseLogger
        logger[metadataKey: "request-id"] = .string(id)
        return logger
    }

    /// The current request's logger, or `fallbackLogger` outside one.
    public static var logger: Logger { current?.logger ?? fallbackLogger }
}

extension OwnedRequest {
    /// A logger for this request: with `--request-id`, its metadata `request-id` names the request.
    /// Valid where the request is served (the handler's task or pool thread).
    public var logger: Logger { RequestScope.logger }

    /// The request's id when request ids are on (`--request-id`).
    public var requestID: String? { RequestScope.current?.id }
}

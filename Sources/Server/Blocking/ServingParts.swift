// ServingParts: what one serving process or thread owns, whatever the model:
// a date cache and the wire protocol's service (parser, handler and response
// writer for HTTP). Made after fork or inside the thread, so nothing mutable is shared.
import Glibc
import Logging

struct ServingParts {
    let dateCache: DateCache
    let service: any ConnectionService

    /// - Parameter thread: the serving thread's id, in the thread models (the line protocol names it).
    init(configuration: ServerConfiguration, makeHandler: () -> any HTTPHandler, logger: Logger, thread: Int32? = nil) {
        dateCache = DateCache()
        switch configuration.wireProtocol {
        case .http:
            let writer = ResponseWriter(dateCache: dateCache, serverName: configuration.serverName)
            service = ConnectionDriver(limits: configuration.limits, writer: writer, handler: OperationsRoutes(scoreboard: nil, next: makeHandler()), logger: logger)
        case .line:
            service = LineDriver(answer: LineDriver.answer(pid: getpid(), thread: thread),
                                 maxLineBytes: configuration.limits.maxRequestLineBytes, logger: logger)
        }
    }
}

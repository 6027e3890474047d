// ServingParts: what one serving process or thread owns, whatever the model:
// a date cache and the wire protocol's service (parser, handler and response
// writer for HTTP). Made after fork or inside the thread, so nothing mutable is shared.
import Glibc
import HTTP1
import Logging

struct ServingParts {
    let dateCache: DateCache
    let service: any ConnectionService

    /// - Parameters:
    ///   - thread: the serving thread's id, in the thread models (the line protocol names it).
    ///   - worker: a prefork worker's place in the scoreboard: it counts there and serves /metrics.
    init(configuration: ServerConfiguration, makeHandler: () -> any HTTPHandler, logger: Logger,
         thread: Int32? = nil, worker: WorkerContext? = nil) {
        dateCache = DateCache()
        switch configuration.wireProtocol {
        case .http:
            let writer = ResponseWriter(dateCache: dateCache, serverName: configuration.serverName)
            let handler = OperationsRoutes(scoreboard: worker?.scoreboard, next: makeHandler())
            service = ConnectionDriver(limits: configuration.limits, writer: writer, handler: handler, logger: logger,
                                       record: worker?.record ?? .detached, bodyRate: configuration.minBodyRate,
                                       compression: configuration.compression, fileSending: configuration.fileSending)
        case .line:
            service = LineDriver(answer: LineDriver.answer(pid: getpid(), thread: thread),
                                 maxLineBytes: configuration.limits.maxRequestLineBytes, logger: logger)
        }
    }
}

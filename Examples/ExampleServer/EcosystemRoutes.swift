// EcosystemRoutes: the ServerEcosystem integrations as an embedder uses them.
//   POST /eco/notes      HTTPTypesNotes, a handler written only against swift-http-types
//   GET  /eco/log        logs "handled /eco/log" through the request's logger (its
//                        request-id metadata under --request-id) and answers the id it saw
// With EXAMPLE_WORKER_SERVICE=1, each worker runs ExampleHeartbeat in its ServiceGroup.
import Glibc
import Logging
import Server
import ServerEcosystem
import ServiceLifecycle

struct EcosystemRoutes: ExampleRoute {
    let router: Router = Self.makeRouter()

    func answer(_ request: Request, with response: inout Response) -> Bool {
        router.route(request, with: &response)
    }

    private static func makeRouter() -> Router {
        var router = Router()
        let notes = AsyncHandler(HTTPTypesAdapter(HTTPTypesNotes()))
        for method in ["GET", "POST", "PUT", "DELETE"] {
            router.add(method, "/eco/notes", .inline { request, _, response in notes.respond(to: request, with: &response) })
        }
        router.get("/eco/log", .async { request in
            request.logger.info("handled /eco/log")
            return Response(body: .bytes(Array("request id \(request.requestID ?? "none")\n".utf8)))
        })
        return router
    }

    /// The services each worker runs, when EXAMPLE_WORKER_SERVICE=1 (nil otherwise).
    static func workerServices() -> (any WorkerServices)? {
        guard getenv("EXAMPLE_WORKER_SERVICE").map({ String(cString: $0) }) == "1" else { return nil }
        return WorkerServiceGroup { logger in [ExampleHeartbeat(logger: logger)] }
    }
}

/// A background service: says it runs, ticks every 100 ms, and says when a graceful shutdown stopped it.
struct ExampleHeartbeat: Service {
    let logger: Logger

    func run() async throws {
        logger.info("example heartbeat running in worker \(getpid())")
        var ticks = 0
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            try? await Task.sleep(nanoseconds: 100_000_000)
            ticks += 1
        }
        logger.info("example heartbeat stopped in worker \(getpid()) after \(ticks) ticks")
    }
}

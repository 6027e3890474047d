// EcosystemRoutes: the ServerEcosystem integrations as an embedder uses them.
//   POST /eco/notes      HTTPTypesNotes, a handler written only against swift-http-types
//   GET  /eco/hello      "hello", from a swift-http-types closure (to set beside /apps/async)
//   GET  /eco/log        logs "handled /eco/log" through the request's logger (its
//                        request-id metadata under --request-id) and answers the id it saw
// With EXAMPLE_WORKER_SERVICE=1, each worker runs ExampleHeartbeat in its ServiceGroup;
// with EXAMPLE_TRACING=1, requests are traced (no-op tracer: the server's own cost of a span).
import Glibc
import HTTPTypes
import Logging
import Server
import ServerEcosystem
import ServiceLifecycle
import Tracing

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
        router.get("/eco/hello", .httpTypes { _, _ in
            var response = HTTPResponse(status: .ok)
            response.headerFields[.contentType] = "text/plain; charset=utf-8"
            return (response, Array("hello\n".utf8))
        })
        router.get("/eco/log", .async { request in
            request.logger.info("handled /eco/log")
            return Response(body: .bytes(Array("request id \(request.requestID ?? "none")\n".utf8)))
        })
        return router
    }

    /// EXAMPLE_TRACING=1: a span per request, through the no-op tracer (none is bootstrapped).
    static func enableTracingIfAsked() {
        guard getenv("EXAMPLE_TRACING").map({ String(cString: $0) }) == "1" else { return }
        InstrumentationSystem.bootstrap(NoOpTracer())
        RequestTracing.enable()
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

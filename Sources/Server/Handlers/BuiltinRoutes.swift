// The routes `server` answers out of the box: which worker served you, and health.
import Glibc

/// `GET /` answers `pid N` (the serving worker's process id), `GET /health`
/// answers `ok`; other methods on those paths get 405, other paths 404.
public struct BuiltinRoutes: HTTPHandler {
    private let pidBody: [UInt8]

    /// Create it in the worker (after fork), so it reports the worker's own pid.
    public init(pid: Int32 = getpid()) {
        pidBody = Array("pid \(pid)\n".utf8)
    }

    public func respond(to request: Request, with response: inout Response) {
        let path = request.path
        if path == "/" {
            answer(request, &response, with: .bytes(pidBody))
        } else if path == "/health" {
            answer(request, &response, with: .text("ok\n"))
        } else {
            response.status = .notFound
            response.body = .text("not found\n")
        }
    }

    private func answer(_ request: Request, _ response: inout Response, with body: ResponseBody) {
        let method = request.method
        guard method == "GET" || method == "HEAD" else {
            response.status = .methodNotAllowed
            response.addHeader("Allow", "GET, HEAD")
            response.body = .text("method not allowed\n")
            return
        }
        response.body = body
    }
}

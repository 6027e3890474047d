// The route `server` answers out of the box: which worker served you.
// (/health and /metrics come from OperationsRoutes, in front of every handler.)
import Glibc
import HTTP1

/// `GET /` answers `pid N` (the serving worker's process id); other methods
/// on it get 405, other paths 404.
public struct BuiltinRoutes: HTTPHandler {
    private let pidBody: [UInt8]

    /// Create it in the worker (after fork), so it reports the worker's own pid.
    public init(pid: Int32 = getpid()) {
        pidBody = Array("pid \(pid)\n".utf8)
    }

    public func respond(to request: Request, with response: inout Response) {
        if request.path == "/" {
            guard OperationsRoutes.allowsReading(request, &response) else { return }
            response.body = .bytes(pidBody)
        } else {
            response.status = .notFound
            response.body = .text("not found\n")
        }
    }
}

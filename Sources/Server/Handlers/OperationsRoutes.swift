// OperationsRoutes: the routes an operator needs from every worker, whatever
// the embedder serves: `/metrics` (the whole server's numbers from the shared
// scoreboard), `/health` (503 while draining, so a balancer stops sending),
// and the probes (ProbeRoutes.swift): `/livez` (200 while the process serves,
// a drain included) and `/readyz` (200 only between the master's readiness
// and the first moment of a drain).
// Every model puts this layer in front of the embedder's handler, so they get
// both routes without knowing the scoreboard exists. Models without a master
// have no scoreboard: there /health, /livez and /readyz answer ok and /metrics
// does not exist.
// Targets that name no resource (`*`, CONNECT's host:port) are answered here
// too (ServerWideRequests); absolute-form targets are routed by their path.
import Glibc
import HTTP1
import ServerSystem

package struct OperationsRoutes: HTTPHandler {
    private let scoreboard: Scoreboard?
    private let next: any HTTPHandler

    /// - Parameter next: the handler that answers every other path.
    package init(scoreboard: Scoreboard?, next: any HTTPHandler) {
        self.scoreboard = scoreboard
        self.next = next
    }

    package func respond(to request: Request, with response: inout Response) {
        if Self.answerWithoutResource(request, &response) { return }
        // A target shorter than "/livez" names no route here: `/` is handed on with
        // one comparison, before the path is even split from its query.
        guard request.target.count >= 6 else { return next.respond(to: request, with: &response) }
        let path = request.path
        if path == "/metrics", let scoreboard {
            guard Self.allowsReading(request, &response) else { return }
            response.contentType = MetricsExposition.contentType
            response.body = .bytes(Array(MetricsExposition.render(scoreboard, now: Clock.monotonicMilliseconds()).utf8))
        } else if path == "/health" {
            guard Self.allowsReading(request, &response) else { return }
            if let scoreboard, scoreboard.server(.draining) != 0 {
                response.status = .serviceUnavailable
                response.body = .text("draining\n")
            } else {
                response.body = .text("ok\n")
            }
        } else if path == "/readyz" || path == "/livez" {
            guard Self.allowsReading(request, &response) else { return }
            if path == "/readyz" { Self.answerReadiness(scoreboard, &response) } else { response.body = .text("ok\n") }
        } else {
            next.respond(to: request, with: &response)
        }
    }

    package var streamsRequestBodies: Bool { next.streamsRequestBodies }

    /// Its own routes are GET and HEAD only: a streamed body is for `next`'s routes.
    package func streamedBodyLimit(for request: Request) -> Int? { next.streamedBodyLimit(for: request) }

    /// Only GET and HEAD read these resources (and the static files); anything else gets
    /// 405 with Allow (RFC 9110 §15.5.6).
    package static func allowsReading(_ request: Request, _ response: inout Response) -> Bool {
        let method = request.method
        if method == "GET" || method == "HEAD" { return true }
        response.status = .methodNotAllowed
        response.addHeader("Allow", "GET, HEAD")
        response.body = .text("method not allowed\n")
        return false
    }
}

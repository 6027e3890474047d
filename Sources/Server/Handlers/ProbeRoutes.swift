// ProbeRoutes: the answer to a balancer's readiness probe, `/readyz`, from what
// the master published in the scoreboard (Readiness.swift, GracefulShutdown.swift).
// `/livez` needs nothing: a worker that answers is alive, draining or not, and
// a liveness probe that failed during a drain would get the process killed
// before its requests finish.
import HTTP1

extension OperationsRoutes {
    /// 200 "ready" once the master has seen every worker serving, 503 "starting"
    /// before that and 503 "draining" from the first moment of a graceful stop.
    /// Without a master (no scoreboard) the one process serves from its start.
    static func answerReadiness(_ scoreboard: Scoreboard?, _ response: inout Response) {
        guard let scoreboard else { return response.body = .text("ready\n") }
        if scoreboard.server(.draining) != 0 {
            response.status = .serviceUnavailable
            response.body = .text("draining\n")
        } else if scoreboard.server(.ready) == 0 {
            response.status = .serviceUnavailable
            response.body = .text("starting\n")
        } else {
            response.body = .text("ready\n")
        }
    }
}

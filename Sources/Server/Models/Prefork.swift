// Prefork: the design notes' first version. A master forks N workers up front;
// each is a serial server on the shared listener (or its own SO_REUSEPORT one),
// so N connections are served at once and the rest wait. The master only
// replaces workers that die and stops them all: the Supervisor the hybrid uses.
//
// A worker told QUIT (graceful stop, HUP, TTOU, the old master after USR2)
// finishes the request in hand and exits; only when the whole server is
// stopping (the scoreboard's `draining` flag) does it also serve what waits in
// the queue, since otherwise other workers, or the new master's, serve it.
import ServerSystem

enum Prefork {
    static func run(_ context: ModelContext) throws -> Int32 {
        let configuration = context.configuration
        let supervisor = try Supervisor(configuration: configuration, logger: context.logger, describe: { workers in
            context.startupDetails("\(workers) workers, reuseport \(configuration.reusePort ? "on" : "off")")
        }) { worker throws(SystemError) in
            let connection = context.blockingConnection(stop: try context.processStop(), worker: worker)
            worker.reportServing()
            try AcceptLoop(listener: worker.listener, connection: connection,
                           sweepsQueue: { worker.scoreboard.server(.draining) == 1 }, record: worker.record).run()
        }
        return try supervisor.run(announce: context.announce)
    }
}

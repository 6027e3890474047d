// Prefork: the design notes' first version. A master forks N workers up front;
// each is a serial server on the shared listener (or its own SO_REUSEPORT one),
// so N connections are served at once and the rest wait. The master only
// replaces workers that die and stops them all: the Supervisor the hybrid uses.

enum Prefork {
    static func run(_ context: ModelContext) throws -> Int32 {
        let configuration = context.configuration
        let supervisor = try Supervisor(configuration: configuration, logger: context.logger, describe: { workers in
            context.startupDetails("\(workers) workers, reuseport \(configuration.reusePort ? "on" : "off")")
        }) { worker throws(SystemError) in
            let stop = try SignalDescriptor(ReactorServing.stopSignals)
            try AcceptLoop(listener: worker.listener, connection: context.blockingConnection(stop: stop.fd)).run()
        }
        return try supervisor.run(announce: context.announce)
    }
}

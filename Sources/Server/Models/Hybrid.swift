// Hybrid (the default): nginx's shape. A master forks one worker per core and
// replaces any that die; each worker runs an epoll reactor serving thousands
// of connections at once. Processes for isolation and to use every core,
// events for concurrency inside each.
import ServerSystem

enum Hybrid {
    static func run(_ context: ModelContext) throws -> Int32 {
        let configuration = context.configuration
        let certificates = try context.tls.map { (tls) throws(SystemError) in
            try TLSCertificates(tls, ticketKeyRotationSeconds: configuration.tlsTicketKeyRotation)
        }
        let supervisor = try Supervisor(configuration: configuration, logger: context.logger, tls: certificates, describe: { workers in
            context.startupDetails("\(workers) workers, reuseport \(configuration.reusePort ? "on" : "off"), "
                + "edge-triggered \(configuration.triggerMode == .edge ? "on" : "off")")
        }) { worker throws(SystemError) in
            try ReactorServing.serve(listeners: worker.listeners, sharedListener: worker.sharedListener,
                                     configuration: configuration, makeHandler: context.makeHandler, makeServices: context.makeServices,
                                     logger: worker.logger, worker: worker, tls: certificates?.current)
        }
        return try supervisor.run(announce: context.announce)
    }
}

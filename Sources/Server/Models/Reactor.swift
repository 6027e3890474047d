// Reactor: one process, one thread, one epoll loop, no master. Every
// connection is a state machine the loop advances when its socket is ready, so
// one process holds thousands of connections; it uses one core, and if it dies
// nobody restarts it.

enum Reactor {
    static func run(_ context: ModelContext) throws -> Int32 {
        let configuration = context.configuration
        try configuration.accessLog.checkOpens()
        let listeners = try context.startListeners(details: "edge-triggered \(configuration.triggerMode == .edge ? "on" : "off")")
        defer { listeners.close() }
        try ReactorServing.serve(listeners: listeners, sharedListener: false, configuration: configuration,
                                 makeHandler: context.makeHandler, makeServices: context.makeServices, logger: context.logger,
                                 tls: try context.tls.map { (tls) throws(SystemError) in
                                     try TLSCertificates(tls, ticketKeyRotationSeconds: configuration.tlsTicketKeyRotation)
                                 }?.current)
        return 0
    }
}

// Serial: one process, no concurrency at all. Accept a connection, serve it
// until the client leaves, accept the next. Every other client waits in the
// kernel's listen queue meanwhile: the simplest server, and the slowest.

enum Serial {
    static func run(_ context: ModelContext) throws -> Int32 {
        let listener = try context.start()
        defer { listener.close() }
        let stop = try SignalDescriptor(ReactorServing.stopSignals)
        defer { stop.close() }
        try AcceptLoop(listener: listener, connection: context.blockingConnection(stop: stop.fd)).run()
        return 0
    }
}

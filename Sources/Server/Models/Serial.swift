// Serial: one process, no concurrency at all. Accept a connection, serve it
// until the client leaves, accept the next. Every other client waits in the
// kernel's listen queue meanwhile: the simplest server, and the slowest. On
// QUIT it finishes the connection in hand and serves what already waits in the
// queue (nobody else would), each closed after its answer, by --graceful-timeout.

enum Serial {
    static func run(_ context: ModelContext) throws -> Int32 {
        let listener = try context.start()
        defer { listener.close() }
        let stop = try context.processStop()
        try AcceptLoop(listener: listener, connection: context.blockingConnection(stop: stop)).run()
        return 0
    }
}

// example-server: how an embedder builds a server on the library: its own
// routes, tried in order, in front of the built-in ones, behind the same flags
// as `server`; with EXAMPLE_STATIC_ROOT, a directory's files mounted at /static
// in front of them all (MountedFiles). The integration tests start it to reach
// what only a handler can ask for (file bodies, streamed bodies, deferred work).
import ArgumentParser
import Server
import ServerCommandLine

@main
struct ExampleCommand: ServerExecutable {
    static let configuration = CommandConfiguration(
        commandName: "example-server",
        abstract: "The library with example routes (Examples/ExampleServer) in front of the built-in ones.")

    @OptionGroup var options: ServerOptions

    static func main() {
        let files = MountedFiles.openRoot()
        EcosystemRoutes.enableTracingIfAsked()
        ServerCommandLine.main(Self.self, handler: {
            WarmUp.waitIfAsked()
            return MountedFiles.handler(files, in: ExampleRoutes(routes: [BodyRoutes(), DeferredRoutes(), ClientRoutes(),
                                                                          CompressionRoutes(), ApplicationRoutes(), MetricsRoutes(), StreamingRoutes(),
                                                                          EcosystemRoutes()],
                                                                 fallback: BuiltinRoutes()))
        }, services: EcosystemRoutes.workerServices)
    }
}

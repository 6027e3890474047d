// example-service: the todos API (TodoRoutes) in front of the server's
// built-in routes, behind the same flags as `server` plus --database.
// The database is opened in each worker after fork, never in the master
// (a forked SQLite handle is unusable, and the master must stay thread-free).
import ArgumentParser
import Glibc
import Server
import ServerCommandLine
import ServerEcosystem

@main
struct ExampleService: ServerExecutable {
    static let configuration = CommandConfiguration(
        commandName: "example-service",
        abstract: "A todos JSON API over SQLite (GRDB) on the prefork server.")

    @OptionGroup var options: ServerOptions

    @Option(help: "The SQLite database file, created if missing; its directory must be writable (WAL mode keeps files beside it).")
    var database = "todos.sqlite"

    @Flag(help: "Write JSON with Foundation's JSONEncoder, as the Hummingbird twin does, instead of the server's streaming encoder (for comparison).")
    var foundationJSON = false

    static func main() {
        // Parsed again by ServerCommandLine.main, which reports bad flags; here only the example's own are wanted.
        let parsed = try? parse(Array(CommandLine.arguments.dropFirst()))
        let path = parsed?.database ?? "todos.sqlite"
        let foundationJSON = parsed?.foundationJSON ?? false
        checkDirectory(of: path)
        ServerCommandLine.main(Self.self, handler: {
            TodoRoutes(store: TodoStore.open(path: path), foundationJSON: foundationJSON).router
        }, services: {
            // Each worker's ServiceGroup, after fork: the background count report.
            WorkerServiceGroup { logger in [TodoCountReport(path: path, logger: logger)] }
        })
    }

    /// One line and exit 1 when the database's directory cannot take it, before any worker starts.
    private static func checkDirectory(of path: String) {
        let directory = path.contains("/") ? String(path[..<path.lastIndex(of: "/")!]) : "."
        guard access(directory.isEmpty ? "/" : directory, W_OK | X_OK) == 0 else {
            let text = "example-service: --database \(path): directory \(directory) is not writable\n"
            _ = text.withCString { write(2, $0, strlen($0)) }
            Glibc.exit(1)
        }
    }
}

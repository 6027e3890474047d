// The `server` executable: the library's built-in routes behind the server's flags.
import ArgumentParser
import ServerCommandLine

@main
struct ServerCommand: ServerExecutable {
    static let configuration = CommandConfiguration(
        commandName: "server",
        abstract: "An HTTP/1.1 server in seven architectures; by default a master process supervising event-loop workers.")

    @OptionGroup var options: ServerOptions

    static func main() {
        ServerCommandLine.main(Self.self)
    }
}

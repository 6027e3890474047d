// ServerCommandLine: the life of an executable built on the library: parse the
// flags, set up logging, run the server with the executable's handler, exit
// with its code. Help goes to stdout in full; every error is one line on
// stderr ("NAME: reason") and a non-zero exit.
import ArgumentParser
import Glibc
import Logging
import Server
import ServerEcosystem

/// An executable's command: its name and abstract in `configuration`, the server's
/// flags in an `@OptionGroup var options: ServerOptions`.
public protocol ServerExecutable: ParsableCommand {
    var options: ServerOptions { get }
}

public enum ServerCommandLine {
    /// Runs `Command` with `CommandLine.arguments`; never returns.
    /// - Parameter handler: made once in each worker, after fork (see `HTTPServer`); given request
    ///   ids with `--request-id` (`RequestIDs`) and traced once `RequestTracing.enable()` was called.
    /// - Parameter services: what each worker runs beside its connections (`WorkerServiceGroup`).
    public static func main<Command: ServerExecutable>(
        _: Command.Type, handler: @escaping () -> any HTTPHandler = { BuiltinRoutes() },
        services: @escaping () -> (any WorkerServices)? = { nil }
    ) -> Never {
        let arguments = Array(CommandLine.arguments.dropFirst())
        let checking = ConfigurationCheck.isRequested(arguments)
        let options: ServerOptions
        do {
            // parse, not parseAsRoot: --help and --version then arrive as errors, handled below.
            options = try Command.parse(arguments).options
        } catch {
            fail(Command.self, with: error, checking: checking)
        }
        bootstrapLogging(level: options.logLevel)
        if options.checkConfiguration {
            ConfigurationCheck.run(options, name: Command.configuration.commandName ?? "server") {
                fail(Command.self, with: $0, checking: true)
            }
        }
        do {
            let configuration = options.serverConfiguration
            let files = try options.files.handler(before: handler, for: configuration, logger: Logger(label: "server"))
            let requestIDs = options.requestId
            let handler = { () -> any HTTPHandler in
                let traced = RequestTracing.wrap(files())
                return requestIDs ? RequestIDs(traced) : traced
            }
            exit(try HTTPServer(configuration: configuration, handler: handler, services: services).run())
        } catch {
            fail(Command.self, with: error)
        }
    }

    private static func bootstrapLogging(level: Logger.Level) {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }

    /// - Parameter checking: `-t` was asked for: any failure exits 1, as `nginx -t` does.
    private static func fail<Command: ServerExecutable>(_: Command.Type, with error: Error,
                                                        checking: Bool = false) -> Never {
        let code = Command.exitCode(for: error)
        if code == .success {
            print(Command.fullMessage(for: error))
            exit(0)
        }
        let name = Command.configuration.commandName ?? "server"
        let message = error is SystemError ? "\(error)" : Command.message(for: error)
        let firstLine = message.split(separator: "\n").first.map(String.init) ?? "\(error)"
        let text = firstLine.hasPrefix("Error: ") ? String(firstLine.dropFirst(7)) : firstLine
        writeStandardError("\(name): \(text)\n")
        exit(checking || code == .failure || code.rawValue == 0 ? 1 : code.rawValue)
    }

    /// Straight to descriptor 2: stderr is unbuffered anyway, and this needs no
    /// access to the C library's global FILE pointers.
    private static func writeStandardError(_ text: String) {
        var text = text
        text.withUTF8 { bytes in _ = Glibc.write(2, bytes.baseAddress, bytes.count) }
    }
}

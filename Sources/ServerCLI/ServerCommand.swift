// The `server` executable: flags in, a ServerConfiguration out, then run.
// Errors are one line on stderr and a non-zero exit.
import ArgumentParser
import Glibc
import Logging
import Server

struct ServerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "server",
        abstract: "A prefork + epoll HTTP/1.1 server: a master process supervising event-loop workers.")

    @Option(help: "Address to listen on: numeric IPv4 or IPv6, or localhost.")
    var host = "0.0.0.0"

    @Option(help: "TCP port; 0 picks a free one (the startup line shows which).")
    var port = 8080

    @Option(help: "Worker processes; unless set, one per online CPU.")
    var workers = ServerConfiguration.onlineProcessorCount

    @Option(help: "listen(2) backlog; unless set, the kernel's SOMAXCONN.")
    var backlog = Int(SOMAXCONN)

    @Flag(help: "Give every worker its own SO_REUSEPORT listener; the kernel spreads connections.")
    var reuseport = false

    @Flag(help: "Register sockets edge-triggered (EPOLLET) and drain them; default is level-triggered.")
    var edgeTriggered = false

    @Option(help: "Largest request header block in bytes; larger gets 431.")
    var maxHeaderSize = RequestLimits().maxHeaderBytes

    @Option(help: "Largest request body in bytes; larger gets 413.")
    var maxBodySize = RequestLimits().maxBodyBytes

    @Option(help: "Longest request line in bytes; longer gets 414.")
    var maxRequestLine = RequestLimits().maxRequestLineBytes

    @Option(help: "Connections one worker holds at most; past it, it stops accepting until one closes.")
    var maxConnections = ServerConfiguration().maxConnections

    @Option(help: "Seconds a client has to send a whole header block; then 408 and close.")
    var headerTimeout = Seconds(milliseconds: TimeoutDurations().header)

    @Option(help: "Seconds an idle keep-alive connection is kept open.")
    var keepaliveTimeout = Seconds(milliseconds: TimeoutDurations().keepAlive)

    @Option(help: "Seconds a client may pause while sending a body; then 408 and close.")
    var bodyTimeout = Seconds(milliseconds: TimeoutDurations().body)

    @Option(help: "Seconds a client may leave responses unread before it is closed.")
    var writeTimeout = Seconds(milliseconds: TimeoutDurations().write)

    @Option(help: ArgumentHelp("Access log in nginx's combined format: a file path, '-' for stdout, or 'off'.",
                               discussion: "Each worker buffers its lines (written at least once a second) and reopens the file on SIGUSR1.",
                               valueName: "path"))
    var accessLog = "off"

    @Option(help: "Least severe log level written to stderr.")
    var logLevel = Logger.Level.info

    var serverConfiguration: ServerConfiguration {
        var configuration = ServerConfiguration()
        configuration.host = host
        configuration.port = port
        configuration.workers = workers
        configuration.backlog = backlog
        configuration.reusePort = reuseport
        configuration.triggerMode = edgeTriggered ? .edge : .level
        configuration.limits.maxHeaderBytes = maxHeaderSize
        configuration.limits.maxBodyBytes = maxBodySize
        configuration.limits.maxRequestLineBytes = maxRequestLine
        configuration.maxConnections = maxConnections
        configuration.timeouts.header = headerTimeout.milliseconds
        configuration.timeouts.keepAlive = keepaliveTimeout.milliseconds
        configuration.timeouts.body = bodyTimeout.milliseconds
        configuration.timeouts.write = writeTimeout.milliseconds
        configuration.accessLog = AccessLogDestination(argument: accessLog)
        return configuration
    }

    func validate() throws {
        do {
            try serverConfiguration.validate()
        } catch {
            throw ValidationError(error.message)
        }
    }

    func run() throws {
        let level = logLevel
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let code = try HTTPServer(configuration: serverConfiguration).run()
        throw ExitCode(code)
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}

/// A flag value in seconds, fractions allowed ("0.5"), kept as milliseconds.
struct Seconds: ExpressibleByArgument, CustomStringConvertible {
    let milliseconds: Int

    init(milliseconds: Int) {
        self.milliseconds = milliseconds
    }

    init?(argument: String) {
        guard let seconds = Double(argument), seconds.isFinite, seconds > 0, seconds < 1e6 else { return nil }
        milliseconds = max(1, Int((seconds * 1000).rounded()))
    }

    var description: String {
        milliseconds % 1000 == 0 ? "\(milliseconds / 1000)" : "\(Double(milliseconds) / 1000)"
    }

    var defaultValueDescription: String { description }
}

@main
enum Main {
    static func main() {
        do {
            var command = try ServerCommand.parseAsRoot()
            try command.run()
        } catch let exit as ExitCode {
            Glibc.exit(exit.rawValue)
        } catch {
            fail(with: error)
        }
    }

    /// Help goes to stdout in full; every error is one line on stderr.
    private static func fail(with error: Error) -> Never {
        let code = ServerCommand.exitCode(for: error)
        if code == .success {
            print(ServerCommand.fullMessage(for: error))
            Glibc.exit(0)
        }
        let message = error is SystemError ? "\(error)" : ServerCommand.message(for: error)
        let firstLine = message.split(separator: "\n").first.map(String.init) ?? "\(error)"
        let text = firstLine.hasPrefix("Error: ") ? String(firstLine.dropFirst(7)) : firstLine
        StandardError.write("server: \(text)\n")
        Glibc.exit(code == .failure || code.rawValue == 0 ? 1 : code.rawValue)
    }
}

enum StandardError {
    /// Writes straight to descriptor 2: stderr is unbuffered anyway, and this
    /// needs no access to the C library's global FILE pointers.
    static func write(_ text: String) {
        var text = text
        text.withUTF8 { bytes in _ = Glibc.write(2, bytes.baseAddress, bytes.count) }
    }
}

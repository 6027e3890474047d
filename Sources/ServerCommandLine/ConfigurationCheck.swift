// ConfigurationCheck: `server -t` / `--check-configuration`, nginx's `nginx -t`:
// parse and validate the flags, run every check the server makes before serving
// (StartupCheck), print "NAME: configuration OK" or one error line, exit 0 or 1.
// Nothing is bound, forked or served.
import ArgumentParser
import Glibc
import Logging
import Server

/// One thing the server reads from the system before it serves, checked by `-t` as well as at
/// start: it throws a one-line reason. A feature that loads files in the master (the root
/// directory, certificates and keys) adds its check to ``ServerOptions/startupChecks``.
public struct StartupCheck {
    /// What is checked, for the reader of the list ("--root").
    public let name: String
    public let run: () throws -> Void

    public init(_ name: String, _ run: @escaping () throws -> Void) {
        self.name = name
        self.run = run
    }
}

extension ServerOptions {
    /// Everything `-t` checks beyond the flags' syntax, in order; the first failure is the answer.
    var startupChecks: [StartupCheck] {
        let configuration = serverConfiguration
        var quiet = Logger(label: "server")
        quiet.logLevel = .critical  // -t prints one line; the descriptor budget's warnings belong to a real start
        return [
            StartupCheck("settings, listeners, --user, --access-log") { try configuration.checkBeforeServing() },
            StartupCheck("--root") {
                _ = try files.handler(before: { BuiltinRoutes() }, for: configuration, logger: quiet)
            },
        ]
    }
}

enum ConfigurationCheck {
    static let flagNames: Set<String> = ["-t", "--check-configuration"]

    /// Whether the command line asks for a check rather than a server: then every failure,
    /// even a flag that does not parse, exits 1 (as `nginx -t` does), not the usage code 64.
    static func isRequested(_ arguments: [String]) -> Bool {
        arguments.prefix { $0 != "--" }.contains { flagNames.contains($0) }
    }

    /// Runs the checks; the line goes to stdout when all pass, else to stderr (via `fail`).
    static func run(_ options: ServerOptions, name: String, fail: (Error) -> Never) -> Never {
        for check in options.startupChecks {
            do {
                try check.run()
            } catch {
                fail(error)
            }
        }
        print("\(name): configuration OK")
        exit(0)
    }
}

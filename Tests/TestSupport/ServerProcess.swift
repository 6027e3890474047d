// ServerProcess: the real `server` binary, started for a test on port 0 in a
// process group of its own, so a failing test can never leave workers behind.
import Foundation
import Glibc
import Foundation

public final class ServerProcess {
    public let pid: pid_t
    /// The port from the startup line (the first listener's).
    public let port: Int
    /// Every listener's port from the startup line, in the order of the `--listen` flags.
    public let ports: [Int]
    /// The startup line itself ("listening on ...").
    public let startupLine: String
    private let stdoutPipe: Int32
    private let stderrPipe: Int32
    private var exitStatus: Int32?

    /// The `server` executable SwiftPM built next to this test bundle.
    public static var executablePath: String { executable(named: "server") }

    /// An executable of the package (`server`, `example-server`) SwiftPM built next to this test bundle.
    /// An absolute path (a binary built elsewhere, as Examples/todos's) is taken as it is.
    public static func executable(named name: String) -> String {
        if name.hasPrefix("/") { return name }
        var buffer = [CChar](repeating: 0, count: 4096)
        let length = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        precondition(length > 0, "cannot read /proc/self/exe")
        let testBinary = String(decoding: buffer[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        var directory = testBinary
        while let slash = directory.lastIndex(of: "/") {
            directory = String(directory[..<slash])
            let candidate = directory + "/" + name
            if access(candidate, X_OK) == 0 { return candidate }
        }
        preconditionFailure("no \(name) executable found above \(testBinary)")
    }

    /// Starts `server --port 0 <arguments>` (without `--port 0` when the arguments have a
    /// `--listen`) and waits (up to 20 s) for its startup line.
    /// - Parameter executable: another executable of the package taking the same flags (`example-server`).
    /// - Parameter openFileLimit: run it under `ulimit -n` of this many descriptors.
    /// - Parameter activatedSocket: a listening socket passed as descriptor 3 with LISTEN_FDS=1
    ///   and LISTEN_PID set to the server's pid, as systemd's socket activation does.
    /// - Parameter activatedSockets: several, passed as descriptors 3, 4, ... with LISTEN_FDS set to their count.
    public init(_ arguments: [String], executable: String = "server", openFileLimit: Int? = nil,
                activatedSocket: Int32? = nil, activatedSockets: [Int32] = []) throws {
        let portFlags = arguments.contains("--listen") ? [] : ["--port", "0"]
        let command = [Self.executable(named: executable)] + portFlags + arguments
        let launched: Launch.Launched
        let activated = activatedSocket.map { [$0] } ?? activatedSockets
        if !activated.isEmpty {
            // The shell learns its own pid ($$) and execs the server, which keeps it.
            launched = try Launch.run("/bin/sh", ["-c", "export LISTEN_PID=$$ LISTEN_FDS=\(activated.count); exec \"$@\"", "sh"] + command,
                                      newProcessGroup: true, passing: activated)
        } else if let openFileLimit {
            // The shell execs the server, so the pid and process group are still the server's own.
            launched = try Launch.run("/bin/sh", ["-c", "ulimit -n \(openFileLimit) && exec \"$@\"", "sh"] + command,
                                      newProcessGroup: true)
        } else {
            launched = try Launch.run(command[0], Array(command.dropFirst()), newProcessGroup: true)
        }
        pid = launched.pid
        stdoutPipe = launched.stdout
        stderrPipe = launched.stderr
        guard let startup = Launch.readLine(from: stdoutPipe, timeoutMilliseconds: 20_000),
              let port = Self.port(in: startup) else {
            let errors = Launch.readAvailable(from: stderrPipe)
            killpg(launched.pid, SIGKILL)
            _ = Launch.waitForExit(launched.pid, timeoutMilliseconds: 5000)
            close(launched.stdout)
            close(launched.stderr)
            throw LaunchError("server did not announce a port; stderr: \(errors)")
        }
        startupLine = startup
        self.port = port
        ports = Self.ports(in: startup)
    }

    deinit {
        if exitStatus == nil {
            killpg(pid, SIGKILL)
            _ = Launch.waitForExit(pid, timeoutMilliseconds: 5000)
        }
        close(stdoutPipe)
        close(stderrPipe)
    }

    /// "listening on 127.0.0.1:41234 (...)" -> 41234; of several listeners, the first's.
    public static func port(in line: String) -> Int? {
        ports(in: line).first
    }

    /// "listening on 127.0.0.1:41234, [::1]:41235 proxy-protocol (...)" -> [41234, 41235]
    public static func ports(in line: String) -> [Int] {
        guard line.hasPrefix("listening on "), let paren = line.firstIndex(of: "(") else { return [] }
        let listeners = line[line.index(line.startIndex, offsetBy: 13)..<paren].split(separator: ",")
        return listeners.compactMap { listener -> Int? in
            guard let address = listener.split(separator: " ").first, let colon = address.lastIndex(of: ":") else { return nil }
            return Int(address[address.index(after: colon)...])
        }
    }

    /// Sends `signal` to the master and waits for it to exit; nil if it did not within the time.
    public func stop(signal: Int32 = SIGTERM, timeoutMilliseconds: Int = 15_000) -> Int32? {
        kill(pid, signal)
        return waitForExit(timeoutMilliseconds: timeoutMilliseconds)
    }

    public func waitForExit(timeoutMilliseconds: Int) -> Int32? {
        if let exitStatus { return exitStatus }
        exitStatus = Launch.waitForExit(pid, timeoutMilliseconds: timeoutMilliseconds)
        return exitStatus
    }

    /// What the server wrote to stderr since the last call.
    public func standardError() -> String { Launch.readAvailable(from: stderrPipe) }

    /// What the server wrote to stdout after its startup line, since the last call.
    public func standardOutput() -> String { Launch.readAvailable(from: stdoutPipe) }

    /// The master's current children (its workers), from /proc.
    public func workerPIDs() -> Set<pid_t> {
        let text = (try? String(contentsOfFile: "/proc/\(pid)/task/\(pid)/children", encoding: .utf8)) ?? ""
        return Set(text.split(separator: " ").compactMap { pid_t($0.trimmingCharacters(in: .whitespacesAndNewlines)) })
    }

    /// The pid of the one worker of a server started with `--workers 1`, once it runs;
    /// nil when none (or more than one) did within `timeoutMilliseconds`.
    public func onlyWorkerPID(timeoutMilliseconds: Int = 10_000) -> pid_t? {
        guard Self.eventually(timeoutMilliseconds: timeoutMilliseconds, { workerPIDs().count == 1 }) else { return nil }
        return workerPIDs().first
    }

    /// Polls `condition` every 20 ms until it holds or `timeoutMilliseconds` pass.
    public static func eventually(timeoutMilliseconds: Int = 10_000, _ condition: () -> Bool) -> Bool {
        let deadline = Launch.now() + timeoutMilliseconds
        while Launch.now() < deadline {
            if condition() { return true }
            usleep(20_000)
        }
        return condition()
    }
}

/// Whether a process (not yet reaped) still exists.
public func processExists(_ pid: pid_t) -> Bool {
    kill(pid, 0) == 0 || errno == EPERM
}

// Launch: posix_spawn with stdout and stderr captured through pipes, and
// bounded waits on the child. (The test process has threads, so it never forks.)
import Glibc
import Foundation

public struct LaunchError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

public enum Launch {
    public struct Launched {
        public let pid: pid_t
        public let stdout: Int32
        public let stderr: Int32
    }

    public static func now() -> Int {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return time.tv_sec * 1000 + time.tv_nsec / 1_000_000
    }

    /// Starts `path` with `arguments`, default signal dispositions and an empty signal mask.
    /// - Parameter passing: descriptors handed to the child as 3, 4, ... (as systemd passes sockets).
    public static func run(_ path: String, _ arguments: [String], newProcessGroup: Bool = false,
                           passing descriptors: [Int32] = []) throws -> Launched {
        var out: [Int32] = [0, 0]
        var err: [Int32] = [0, 0]
        guard pipe(&out) == 0, pipe(&err) == 0 else { throw LaunchError("pipe failed") }
        for fd in out + err { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, out[1], 1)
        posix_spawn_file_actions_adddup2(&actions, err[1], 2)
        for (offset, fd) in descriptors.enumerated() { posix_spawn_file_actions_adddup2(&actions, fd, 3 + Int32(offset)) }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var emptyMask = sigset_t()
        sigemptyset(&emptyMask)
        var allSignals = sigset_t()
        sigfillset(&allSignals)
        posix_spawnattr_setsigmask(&attributes, &emptyMask)
        posix_spawnattr_setsigdefault(&attributes, &allSignals)
        var flags = Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF)
        if newProcessGroup {
            flags |= Int16(POSIX_SPAWN_SETPGROUP)
            posix_spawnattr_setpgroup(&attributes, 0)
        }
        posix_spawnattr_setflags(&attributes, flags)
        let argv: [UnsafeMutablePointer<CChar>?] = ([path] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, path, &actions, &attributes, argv, environ)
        close(out[1])
        close(err[1])
        guard result == 0 else {
            close(out[0])
            close(err[0])
            throw LaunchError("posix_spawn(\(path)) failed: \(result)")
        }
        return Launched(pid: pid, stdout: out[0], stderr: err[0])
    }

    /// Runs a command to completion (bounded) and returns its exit code and output. The command
    /// runs in a process group of its own, and a timeout kills the whole group: a shell's
    /// children (a client a test script started) end with it instead of running on unseen.
    public static func runToEnd(_ path: String, _ arguments: [String], timeoutMilliseconds: Int = 20_000)
        throws -> (status: Int32?, stdout: String, stderr: String) {
        let launched = try run(path, arguments, newProcessGroup: true)
        defer { close(launched.stdout); close(launched.stderr) }
        let status = waitForExit(launched.pid, timeoutMilliseconds: timeoutMilliseconds)
        if status == nil { kill(-launched.pid, SIGKILL); _ = waitForExit(launched.pid, timeoutMilliseconds: 5000) }
        return (status, readAvailable(from: launched.stdout), readAvailable(from: launched.stderr))
    }

    /// Waits for `pid` to exit; returns its raw wait status, or nil on timeout.
    public static func waitForExit(_ pid: pid_t, timeoutMilliseconds: Int) -> Int32? {
        let deadline = now() + timeoutMilliseconds
        var status: Int32 = 0
        while true {
            let result = waitpid(pid, &status, WNOHANG)
            if result == pid { return status }
            if result == -1 && errno != EINTR { return nil }
            if now() >= deadline { return nil }
            usleep(5_000)
        }
    }

    /// Reads one line (without its newline) within the timeout.
    public static func readLine(from fd: Int32, timeoutMilliseconds: Int) -> String? {
        let deadline = now() + timeoutMilliseconds
        var bytes: [UInt8] = []
        var byte: UInt8 = 0
        while now() < deadline {
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, Int32(max(1, deadline - now()))) > 0 else { continue }
            guard read(fd, &byte, 1) == 1 else { return nil }
            if byte == UInt8(ascii: "\n") { return String(decoding: bytes, as: UTF8.self) }
            bytes.append(byte)
        }
        return nil
    }

    /// Everything readable on `fd` right now (up to its EOF), without blocking.
    public static func readAvailable(from fd: Int32) -> String {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, 0) > 0 else { break }
            let count = read(fd, &chunk, chunk.count)
            guard count > 0 else { break }
            bytes += chunk[0..<count]
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// Decoded wait status helpers for tests.
public func exitCode(ofWaitStatus status: Int32) -> Int32? {
    (status & 0x7f) == 0 ? (status >> 8) & 0xff : nil
}

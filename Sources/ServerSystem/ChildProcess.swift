// fork, kill and waitpid, wrapped once, and the decoded exit status of a child.
import CEventPoll
import Glibc

/// How a child process ended, decoded from waitpid's status word.
public enum ExitStatus: Equatable, CustomStringConvertible, Sendable {
    case exited(code: Int32)
    case killed(signal: Int32)

    package init(waitStatus: Int32) {
        if cep_wait_signaled(waitStatus) != 0 {
            self = .killed(signal: cep_wait_term_signal(waitStatus))
        } else {
            self = .exited(code: cep_wait_exit_code(waitStatus))
        }
    }

    public var description: String {
        switch self {
        case .exited(let code): return "exit code \(code)"
        case .killed(let signal): return "killed by \(signalName(signal))"
        }
    }
}

package enum ChildProcess {
    /// Forks. Returns 0 in the child and the child's pid in the parent.
    ///
    /// Buffered stdio is flushed first, or the child would print the parent's
    /// pending output a second time. Call only while the process has one thread.
    package static func fork() throws(SystemError) -> pid_t {
        fflush(nil)
        return try blockingSystemCall("fork", { Glibc.fork() })
    }

    /// Sends `signal` to `pid`. A process that is already gone (ESRCH) is not an
    /// error: its exit is learned by reaping it. Anything else (EPERM: the pid is no
    /// longer a process this one may signal) means the signal went nowhere, and is thrown.
    package static func kill(_ pid: pid_t, _ signal: Int32) throws(SystemError) {
        do {
            _ = try blockingSystemCall("kill(\(pid), \(signalName(signal)))", { Glibc.kill(pid, signal) })
        } catch where error.errno == ESRCH {
            return
        }
    }

    /// Reaps one child that has exited, without blocking. Nil when none has.
    package static func reapAny() -> (pid: pid_t, status: ExitStatus)? {
        var status: Int32 = 0
        // 0: children remain but none has exited; ECHILD (thrown): no children at all.
        guard let pid = try? blockingSystemCall("waitpid(-1, WNOHANG)", { waitpid(-1, &status, WNOHANG) }), pid > 0 else {
            return nil
        }
        return (pid, ExitStatus(waitStatus: status))
    }

    /// Blocks until `pid` has exited and reaps it.
    package static func reap(_ pid: pid_t) -> ExitStatus? {
        var status: Int32 = 0
        guard let result = try? blockingSystemCall("waitpid(\(pid))", { waitpid(pid, &status, 0) }), result == pid else {
            return nil  // ECHILD: not a child of this process, or already reaped.
        }
        return ExitStatus(waitStatus: status)
    }

    /// Replaces this (forked, single-threaded) process with `path`, with `environment`
    /// added to its own; never returns: if execve fails, the child says why and exits 127.
    package static func execute(_ path: String, _ arguments: [String], adding environment: [(String, String)]) -> Never {
        for (name, value) in environment { setenv(name, value, 1) }
        let argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        let code: Int32
        do {
            _ = try blockingSystemCall("execv(\(path))", { execv(path, argv) })
            code = 0
        } catch {
            var line = "server: \(error)\n"
            line.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
            code = 127
        }
        _exit(code)
    }

    /// Leaves the process at once, without running atexit handlers (a forked worker
    /// must not run the parent's). Its own stdio output is flushed first; what it
    /// inherited was flushed before the fork.
    package static func exitImmediately(_ code: Int32) -> Never {
        fflush(nil)
        _exit(code)
    }
}

// Strace: `strace -f -e trace=CALLS` attached to a running process, for tests
// that check which system calls a worker makes; nil (with a message) when strace
// is missing or may not attach, and the test checks the rest without it.
import Foundation
import Glibc
import TestSupport
import XCTest

final class Strace {
    private let pid: pid_t
    private let output: String

    init?(pid target: pid_t, calls: String) {
        let path = ["/usr/bin/strace", "/bin/strace"].first { (path: String) in access(path, X_OK) == 0 }
        output = NSTemporaryDirectory() + "strace-\(getpid())-\(target)-\(UInt32.random(in: 0...UInt32.max))"
        guard let path, let launched = try? Launch.run(path, ["-f", "-e", "trace=\(calls)", "-o", output, "-p", "\(target)"]) else {
            print("strace is not available: the system call checks are skipped")
            return nil
        }
        pid = launched.pid
        // strace reports the attach on stderr before it traces anything.
        let line = Launch.readLine(from: launched.stderr, timeoutMilliseconds: 10_000) ?? ""
        close(launched.stdout)
        close(launched.stderr)
        guard line.contains("attached") else {
            print("strace could not attach (\(line)): the system call checks are skipped")
            kill(pid, SIGKILL)
            _ = Launch.waitForExit(pid, timeoutMilliseconds: 5000)
            return nil
        }
    }

    /// Traces `calls` of `pid`, or skips the test (saying what is missing) when strace cannot:
    /// for tests whose point is the calls.
    static func required(pid: pid_t, calls: String) throws -> Strace {
        guard let trace = Strace(pid: pid, calls: calls) else {
            throw XCTSkip("strace is needed to see the worker's calls (apt-get install strace)")
        }
        return trace
    }

    /// Detaches; the traced calls, one line each (signals and exits left out).
    func finish() -> [String] {
        kill(pid, SIGINT)
        _ = Launch.waitForExit(pid, timeoutMilliseconds: 10_000)
        defer { unlink(output) }
        let text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
        let lines = text.split(separator: "\n").map(String.init).filter { !$0.contains("+++") && !$0.contains("---") }
        return Self.joiningInterruptedCalls(lines)
    }

    /// With -f, a call that another thread's call interrupts is printed in two lines, each led by
    /// the thread's id: "PID  name(args <unfinished ...>" and later "PID  <... name resumed>rest"
    /// (strace(1), -f). Each pair becomes the one line strace prints for a call it is not
    /// interrupted in, at the place of the second, so a count of calls or bytes sees every call.
    static func joiningInterruptedCalls(_ lines: [String]) -> [String] {
        let unfinished = " <unfinished ...>"
        var started: [Substring: String] = [:]
        var joined: [String] = []
        for line in lines {
            let thread = line.prefix { $0 != " " }
            if line.hasSuffix(unfinished) {
                started[thread] = String(line.dropLast(unfinished.count))
            } else if let resumed = line.range(of: " resumed>"), line.contains("<... "), let start = started.removeValue(forKey: thread) {
                joined.append(start + line[resumed.upperBound...])
            } else {
                joined.append(line)
            }
        }
        return joined
    }
}

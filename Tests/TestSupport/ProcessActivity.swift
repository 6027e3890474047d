// ProcessActivity: what the scheduler says about a server's threads (/proc/PID/task,
// see proc(5)), for two questions tests otherwise answer with a sleep or a CPU
// budget: has the server finished acting on a signal, and is it spinning?
import Foundation
import Glibc

public enum ProcessActivity {
    /// Whether `pid`, every descendant and all their threads are off the CPU and not waiting
    /// for it: asleep (S), stopped (T, t) or dead (Z, X).
    ///
    /// Right after kill(2) returns, a process that will act on the signal is runnable: the
    /// kernel wakes the thread it delivers to, or whoever waits on a signalfd(2) it arrives
    /// on, before kill returns. So once that thread is found asleep again, it has acted;
    /// a signal left blocked for good wakes nobody. Parents are read before their children,
    /// and a process's threads in tid order (its main thread first): a master found asleep
    /// has already passed the signal on (and so woken its workers), a main thread found
    /// asleep has already raised the pipe its serving threads wait on.
    public static func isAtRest(_ pid: pid_t) -> Bool {
        var pending = [pid]
        while !pending.isEmpty {
            let process = pending.removeFirst()
            let threads = threadIDs(of: process)
            for thread in threads {
                guard let state = state(of: thread, in: process) else { continue }  // gone meanwhile
                if state == "R" || state == "D" { return false }
            }
            // Listed after the states were read: whatever the process forked before it slept is here.
            pending += threads.flatMap { children(of: $0, in: process) }
        }
        return true
    }

    /// Nanoseconds the threads of `pid` have spent on a CPU or runnable and waiting for
    /// one (fields 1 and 2 of /proc/PID/task/TID/schedstat), or nil if it is gone.
    public static func runnableNanoseconds(of pid: pid_t) -> Int? {
        guard processExists(pid) else { return nil }
        return threadIDs(of: pid).reduce(0) { total, thread in
            let text = (try? String(contentsOfFile: "/proc/\(pid)/task/\(thread)/schedstat", encoding: .utf8)) ?? ""
            let fields = text.split(separator: " ").compactMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
            return total + (fields.count >= 2 ? fields[0] + fields[1] : 0)
        }
    }

    static func threadIDs(of pid: pid_t) -> [pid_t] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
        return names.compactMap { pid_t($0) }.sorted()
    }

    /// The state letter of /proc/PID/task/TID/stat (field 3, after the parenthesised name).
    private static func state(of thread: pid_t, in pid: pid_t) -> Character? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/task/\(thread)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        return stat[stat.index(after: close)...].first { $0 != " " }
    }

    /// The children forked by one thread (/proc/PID/task/TID/children).
    private static func children(of thread: pid_t, in pid: pid_t) -> [pid_t] {
        let text = (try? String(contentsOfFile: "/proc/\(pid)/task/\(thread)/children", encoding: .utf8)) ?? ""
        return text.split(separator: " ").compactMap { pid_t($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }
}

/// Whether a process spun over a stretch of time: the share of the stretch's wall time
/// its threads were runnable, on a CPU or waiting for one (`runnableNanoseconds`).
///
/// A thread blocked in epoll_wait, poll or sigtimedwait is neither, so an idle process's
/// share stays near 0 however loaded the machine; a spinning thread is always one or
/// the other, so its share stays near 1 however loaded the machine. CPU time alone does
/// not do that: a loaded 2-core machine gives a spinning process a fraction of a core,
/// and a budget in milliseconds breaks when the test's own sleep overruns.
public struct SpinMeter {
    public let pid: pid_t
    private let startedAt: Int
    private let runnableAtStart: Int

    /// Starts measuring `pid` now.
    public init(_ pid: pid_t) throws {
        guard let runnable = ProcessActivity.runnableNanoseconds(of: pid) else { throw LaunchError("no process \(pid) to measure") }
        self.pid = pid
        runnableAtStart = runnable
        startedAt = Self.nanoseconds()
    }

    /// Runnable and wall milliseconds since the start, and the share of one in the other.
    public func reading() throws -> (runnable: Int, wall: Int, share: Double) {
        guard let runnable = ProcessActivity.runnableNanoseconds(of: pid) else { throw LaunchError("process \(pid) is gone") }
        let wall = max(1, Self.nanoseconds() - startedAt)
        let used = runnable - runnableAtStart
        return (used / 1_000_000, wall / 1_000_000, Double(used) / Double(wall))
    }

    private static func nanoseconds() -> Int {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return time.tv_sec * 1_000_000_000 + time.tv_nsec
    }
}

extension ServerProcess {
    /// `ProcessActivity.isAtRest` for the master and everything under it.
    public func isAtRest() -> Bool { ProcessActivity.isAtRest(pid) }
}

// WorkerExit: why a worker ended, for the log and the scoreboard's exit counters.
// A SIGKILL alone does not say who sent it; the master knows when its watchdog
// did, and the kernel's OOM killer leaves a trace in the cgroup's memory events.

import Glibc
import ServerSystem

enum WorkerExit: Equatable, CustomStringConvertible {
    case clean
    case exitCode(Int32)
    case signal(Int32)
    case outOfMemory
    case watchdog

    var description: String {
        switch self {
        case .clean: return "clean exit"
        case .exitCode(let code): return "exit code \(code)"
        case .signal(let signal): return "killed by \(signalName(signal))"
        case .outOfMemory: return "killed by SIGKILL: out of memory (the kernel's OOM killer)"
        case .watchdog: return "killed by SIGKILL: the watchdog (its loop stopped turning)"
        }
    }

    /// The scoreboard counter this exit adds one to.
    var counter: ServerField {
        switch self {
        case .clean: return .exitsClean
        case .exitCode: return .exitsWithError
        case .signal: return .exitsBySignal
        case .outOfMemory: return .exitsOutOfMemory
        case .watchdog: return .exitsByWatchdog
        }
    }
}

/// Classifies exits, remembering the cgroup's OOM-kill count between them.
struct ExitClassifier {
    private let memoryEvents: OOMKillCounter?
    private var oomKills: Int

    init(memoryEvents: OOMKillCounter? = OOMKillCounter.forThisProcess()) {
        self.memoryEvents = memoryEvents
        oomKills = memoryEvents?.count() ?? 0
    }

    /// - Parameter byWatchdog: the master's watchdog sent the SIGKILL.
    mutating func classify(_ status: ExitStatus, byWatchdog: Bool) -> WorkerExit {
        switch status {
        case .exited(code: 0): return .clean
        case .exited(let code): return .exitCode(code)
        case .killed(let signal):
            if byWatchdog { return .watchdog }
            if signal == SIGKILL, let count = memoryEvents?.count(), count > oomKills {
                oomKills = count
                return .outOfMemory
            }
            return .signal(signal)
        }
    }
}

/// The `oom_kill` count of this process's memory cgroup: `memory.events` under
/// cgroup v2, `memory.oom_control` under v1's memory controller.
struct OOMKillCounter {
    let path: String

    /// Nil when the process is in no memory cgroup this can read.
    static func forThisProcess() -> OOMKillCounter? {
        guard let membership = (try? Files.read("/proc/self/cgroup")) ?? nil else { return nil }
        for line in membership.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count == 3 else { continue }
            let group = parts[2] == "/" ? "" : String(parts[2])
            let candidates: [String]
            if parts[0] == "0" && parts[1].isEmpty {
                candidates = ["/sys/fs/cgroup\(group)/memory.events", "/sys/fs/cgroup/unified\(group)/memory.events"]
            } else if parts[1].split(separator: ",").contains("memory") {
                candidates = ["/sys/fs/cgroup/memory\(group)/memory.oom_control"]
            } else {
                continue
            }
            for path in candidates where OOMKillCounter(path: path).count() != nil { return OOMKillCounter(path: path) }
        }
        return nil
    }

    /// The current count, or nil when the file is missing or has no `oom_kill` line.
    func count() -> Int? {
        guard let text = (try? Files.read(path)) ?? nil else { return nil }
        for line in text.split(separator: "\n") {
            let words = line.split(separator: " ")
            if words.count == 2 && words[0] == "oom_kill" { return Int(words[1]) }
        }
        return nil
    }
}

// What the model tests need to know about each model: the flags that start it
// small, and who may answer (the server itself, one of its processes, or one of its threads).
import Foundation
import Glibc
import TestSupport

enum Model: String, CaseIterable {
    case serial, processPerConnection = "process-per-connection", threadPerConnection = "thread-per-connection",
         prefork, threadPool = "thread-pool", reactor, hybrid

    var flags: [String] {
        switch self {
        case .prefork, .hybrid: return ["--model", rawValue, "--workers", "2"]
        case .threadPool: return ["--model", rawValue, "--threads", "4"]
        default: return ["--model", rawValue]
        }
    }

    var isThreaded: Bool { self == .threadPerConnection || self == .threadPool }

    /// Models whose connections are served by child processes rather than the server process itself.
    var servesInChildren: Bool { self == .processPerConnection || self == .prefork || self == .hybrid }
}

extension ServerProcess {
    /// The server's threads, from /proc (the main thread included).
    func threadIDs() -> Set<pid_t> {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
        return Set(entries.compactMap { pid_t($0) })
    }

    /// Every descendant of the server still known to the kernel (its children, theirs, ...).
    func descendantPIDs() -> Set<pid_t> {
        var found = Set<pid_t>()
        var pending = [pid]
        while let next = pending.popLast() {
            let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(next)/task")) ?? []
            for task in tasks {
                let text = (try? String(contentsOfFile: "/proc/\(next)/task/\(task)/children", encoding: .utf8)) ?? ""
                for child in text.split(separator: " ").compactMap({ pid_t($0.trimmingCharacters(in: .whitespacesAndNewlines)) })
                where found.insert(child).inserted {
                    pending.append(child)
                }
            }
        }
        return found
    }
}

// ThreadStates: a thread's kernel id (gettid(2)) and whether the scheduler
// counts it as runnable, from the state field of /proc/self/task/TID/stat
// (proc(5): the third field, after the parenthesised command name). The
// handler pool's monitor asks it to tell a thread that waits for a processor
// ('R', making progress as soon as it gets one) from one blocked in a system
// call ('S', 'D'), which it must not wait for.
import CEventPoll
import Glibc

package enum ThreadStates {
    /// The calling thread's id, as /proc/self/task names it.
    package static func currentThreadID() -> Int32 {
        cep_gettid()
    }

    /// Whether thread `id` of this process is running or waits only for a processor;
    /// false when it sleeps, waits for the disk, or is gone.
    package static func isRunnable(_ id: Int32) -> Bool {
        guard let stat = (try? Files.read("/proc/self/task/\(id)/stat", atMost: 512)) ?? nil,
              let close = stat.lastIndex(of: ")") else { return false }
        // ") R 1 ...": the state is the first character after the space that follows the name.
        let state = stat[close...].dropFirst(2).first
        return state == "R"
    }
}

// ProcessThreads: how many threads this process has, counted as the entries of
// /proc/self/task, one directory per thread (proc(5)). A master checks it before
// every fork: fork(2) copies only the calling thread, so a lock another thread
// held (malloc's, the Swift runtime's) would stay held forever in the child.
import Glibc

package enum ProcessThreads {
    /// The number of threads of the calling process, read from /proc/self/task.
    package static func count() throws(SystemError) -> Int {
        let fd = try BeneathCalls.openDirectory("/proc/self/task")
        let directory = FileDescriptor(fd)
        do {
            let entries = try BeneathCalls.entries(of: fd, limit: .max)
            directory.close()
            return entries.count
        } catch {
            directory.close()
            throw error
        }
    }
}

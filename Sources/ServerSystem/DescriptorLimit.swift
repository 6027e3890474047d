// DescriptorLimit: RLIMIT_NOFILE, the most descriptors a process may hold
// (getrlimit(2)), read and raised once in the master before fork, so every
// worker inherits the limit its connections and open-file cache need.
import Glibc

package enum DescriptorLimit {
    /// The soft and hard limits now.
    package static func current() throws(SystemError) -> (soft: Int, hard: Int) {
        var limit = rlimit()
        _ = try blockingSystemCall("getrlimit(RLIMIT_NOFILE)", { getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) })
        return (Int(clamping: limit.rlim_cur), Int(clamping: limit.rlim_max))
    }

    /// Raises the soft limit to `wanted`, at most the hard limit; returns the soft limit in force.
    package static func raise(to wanted: Int) throws(SystemError) -> Int {
        let (soft, hard) = try current()
        guard wanted > soft else { return soft }
        var limit = rlimit(rlim_cur: rlim_t(min(wanted, hard)), rlim_max: rlim_t(hard))
        _ = try blockingSystemCall("setrlimit(RLIMIT_NOFILE, \(limit.rlim_cur))", {
            setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit)
        })
        return Int(limit.rlim_cur)
    }
}

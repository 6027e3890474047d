// SharedMemory: an anonymous shared mapping, which every process forked after
// it is made sees at the same address (the scoreboard's region).
import Glibc

package enum SharedMemory {
    /// Maps `byteCount` bytes of zeroed memory, shared with children forked later
    /// (mmap(2), MAP_SHARED | MAP_ANONYMOUS).
    package static func mapAnonymous(byteCount: Int) throws(SystemError) -> UnsafeMutableRawPointer {
        let call = "mmap(\(byteCount) bytes, shared anonymous)"
        let region = try systemCall(call, failedIf: { $0 == nil || $0 == MAP_FAILED }, {
            mmap(nil, byteCount, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0)
        })
        // nil: EAGAIN (too much memory locked), a failure like any other here.
        guard let region, let region else { throw SystemError(call: call, errno: EAGAIN) }
        return region
    }
}

// Pipe: the two ends of a pipe(2), each owned by its own FileDescriptor, for the
// one-byte notices a process or thread sends another (a wake-up, "serving").
import CEventPoll

package struct Pipe: ~Copyable, Sendable {
    package let reader: FileDescriptor
    package let writer: FileDescriptor

    /// pipe2(2) through the shim, with the flags `cep_pipe` gives both ends.
    package init() throws(SystemError) {
        var ends: [Int32] = [0, 0]
        _ = try ends.withUnsafeMutableBufferPointer { (pointer) throws(SystemError) -> Int32 in
            try blockingSystemCall("pipe2", { cep_pipe(pointer.baseAddress) })
        }
        reader = FileDescriptor(ends[0])
        writer = FileDescriptor(ends[1])
    }
}

// WakePipe: a non-blocking pipe used only to wake threads that poll its read
// end. Raised once and never read, it wakes every thread watching it (the thread
// models' stop pipes); as a doorbell, its owner drains it before looking at what
// the ringing was about (FinishedThreads).
import CEventPoll
import Glibc
import ServerSystem

final class WakePipe: Sendable {
    let readEnd: Int32
    private let writeEnd: Int32

    init() throws(SystemError) {
        var ends: [Int32] = [0, 0]
        _ = try ends.withUnsafeMutableBufferPointer { (pointer) throws(SystemError) -> Int32 in
            try blockingSystemCall("pipe2", { cep_pipe(pointer.baseAddress) })
        }
        readEnd = ends[0]
        writeEnd = ends[1]
    }

    /// Makes the read end readable. A full pipe (EAGAIN) is already readable, so
    /// nothing is lost when the byte does not fit.
    func raise() {
        var byte: UInt8 = 1
        _ = try? systemCall("write(pipe \(writeEnd))", { Glibc.write(writeEnd, &byte, 1) })
    }

    /// Reads everything written so far, without waiting.
    func drain() {
        var bytes = (0, 0, 0, 0, 0, 0, 0, 0) as (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8)
        while let count = (try? systemCall("read(pipe \(readEnd))", { Glibc.read(readEnd, &bytes, 8) })) ?? nil, count > 0 {}
    }

    /// Closes both ends. close(2) releases the descriptor even when it reports an
    /// error, so there is nothing to retry and nothing useful to report.
    func close() {
        _ = Glibc.close(readEnd)
        _ = Glibc.close(writeEnd)
    }
}

// WakePipe: a non-blocking pipe used only to wake threads that poll its read
// end. Raised once and never read, it wakes every thread watching it (the thread
// models' stop pipes); as a doorbell, its owner drains it before looking at what
// the ringing was about (FinishedThreads).
import Glibc
import ServerSystem

final class WakePipe: Sendable {
    private let ends: Pipe

    init() throws(SystemError) {
        ends = try Pipe()
    }

    /// The end threads poll.
    var readEnd: Int32 { ends.reader.raw }
    private var writeEnd: Int32 { ends.writer.raw }

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

    /// Closes both ends (once: later calls do nothing).
    func close() {
        ends.reader.close()
        ends.writer.close()
    }
}

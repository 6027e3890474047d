// ServingReport: the pipe over which one worker tells its master, once, that it
// serves. The master makes it before the fork and keeps only the read end; the
// worker keeps only the write end, and every later worker is forked after the
// master closed it, so no other process can write a report for this worker (a
// cell of the shared scoreboard, which every worker can write, could not say
// that; a signal would name its sender, but under --user a worker may not
// signal its root master, kill(2)). Non-blocking and close-on-exec (pipe2(2)),
// so a new master of a binary upgrade inherits none.
import Glibc
import ServerSystem

final class ServingReport {
    private let ends: Pipe

    init() throws(SystemError) {
        ends = try Pipe()
    }

    /// What the master learns from the read end, without waiting.
    enum Reading {
        case serving
        /// The worker exited (or closed its end) without reporting.
        case gone
        case notYet
    }

    /// In the worker: says it serves, then closes its end.
    func send() {
        var byte: UInt8 = 1
        _ = try? systemCall("write(pipe \(ends.writer.raw))", { Glibc.write(ends.writer.raw, &byte, 1) })
        ends.writer.close()
    }

    /// In the master: whether the worker has reported.
    func read() -> Reading {
        var byte: UInt8 = 0
        guard let count = (try? systemCall("read(pipe \(ends.reader.raw))", { Glibc.read(ends.reader.raw, &byte, 1) })) ?? nil else {
            return .notYet
        }
        return count > 0 ? .serving : .gone
    }

    /// The end the process does not use, closed right after the fork.
    func closeReader() { ends.reader.close() }
    func closeWriter() { ends.writer.close() }

    func close() {
        ends.reader.close()
        ends.writer.close()
    }
}

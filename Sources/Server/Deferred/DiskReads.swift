// DiskReads: a worker's helper threads that read cold file pages into the page
// cache (nginx's `aio threads`). The loop hands over a region whose next bytes
// missed the cache; a helper reads them with a blocking pread(2) into a scratch
// buffer (the bytes are thrown away: what counts is that the kernel now caches
// them) and posts a completion, and the loop resumes sendfile(2), which no
// longer waits for the disk. The threads start on the first miss, never before
// fork; the scratch buffers, one per read in flight, are kept for the next one.
import HTTP1
import Logging
import ServerSystem
import Synchronization

final class DiskReads: Sendable {
    private let pool: HandlerPool
    /// Bytes each read brings into the page cache, at most.
    let readAheadBytes: Int
    /// Free scratch buffers (their addresses): at most one per thread is ever made.
    private let freeBuffers = Mutex<[UInt]>([])

    init(threads: Int, readAheadBytes: Int, logger: Logger) {
        // Every thread may read at once: the reads wait for the disk, not for a processor.
        pool = HandlerPool(size: threads, logger: logger, limit: threads)
        self.readAheadBytes = readAheadBytes
    }

    /// Reads `count` bytes of `region`'s file from `offset` on a helper thread, then
    /// calls `done`, if any, there with the bytes read (0 when the read failed: sendfile then
    /// meets the failure itself). The job holds `region`, so its descriptor stays open until the
    /// read is over even if the connection ends first.
    func readAhead(_ region: FileRegion, at offset: Int, count: Int, then done: (@Sendable (Int) -> Void)?) {
        pool.submit { [self] in
            let buffer = takeBuffer()
            defer { giveBack(buffer) }
            let bytes = UnsafeMutableRawBufferPointer(start: buffer, count: min(count, readAheadBytes))
            let loaded = (try? PageCache.load(region.fd, at: offset, into: bytes)) ?? 0
            done?(loaded)
        }
    }

    private func takeBuffer() -> UnsafeMutableRawPointer {
        if let address = freeBuffers.withLock({ $0.popLast() }), let buffer = UnsafeMutableRawPointer(bitPattern: address) {
            return buffer
        }
        return UnsafeMutableRawPointer.allocate(byteCount: readAheadBytes, alignment: 4096)
    }

    private func giveBack(_ buffer: UnsafeMutableRawPointer) {
        freeBuffers.withLock { $0.append(UInt(bitPattern: buffer)) }
    }
}

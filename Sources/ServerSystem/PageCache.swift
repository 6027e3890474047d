// PageCache: whether the bytes of a file at an offset are in the page cache,
// asked without waiting for the disk (preadv2(2) with RWF_NOWAIT), and the
// blocking read that brings them there. sendfile(2) of a page that is not
// cached blocks its thread until the disk delivers, and on an event loop that
// thread serves every other connection too: the loop asks first, and on a
// miss a helper thread reads the bytes ahead (nginx's `aio threads`).
import CEventPoll
import Glibc

package enum PageCache {
    /// What a probe found at an offset.
    package enum Residency: Equatable {
        /// The page is cached, or the offset is at or past the end of the file (nothing to wait for).
        case cached
        /// Reading it would wait for the disk.
        case missing
        /// The file system or kernel cannot answer without blocking (EOPNOTSUPP), or the read failed:
        /// the caller sends as before, and sendfile reports a real error itself.
        case unknown
    }

    /// Reads the one byte at `offset` of `fd` with RWF_NOWAIT: it succeeds only from the
    /// page cache, and fails with EAGAIN instead of starting I/O (preadv2(2), Linux 4.14).
    /// One byte tells about its page only; the caller probes the pages it is about to send.
    package static func residency(of fd: Int32, at offset: Int) -> Residency {
        var byte: UInt8 = 0
        do {
            guard try systemCall("preadv2(fd \(fd), 1 at \(offset), RWF_NOWAIT)", {
                cep_pread_nowait(fd, &byte, 1, Int64(offset))
            }) != nil else { return .missing }
            return .cached
        } catch {
            return .unknown
        }
    }

    /// Reads `buffer.count` bytes at `offset` of `fd` with pread(2), blocking until the disk
    /// has delivered them, so that they are in the page cache for the sendfile that follows;
    /// the bytes themselves are thrown away. Returns how many were read (fewer at the end of file).
    package static func load(_ fd: Int32, at offset: Int, into buffer: UnsafeMutableRawBufferPointer) throws(SystemError) -> Int {
        var done = 0
        while done < buffer.count {
            let count = try blockingSystemCall("pread(fd \(fd), \(buffer.count - done) at \(offset + done))", {
                Glibc.pread(fd, buffer.baseAddress! + done, buffer.count - done, off_t(offset + done))
            })
            if count == 0 { break }
            done += count
        }
        return done
    }
}

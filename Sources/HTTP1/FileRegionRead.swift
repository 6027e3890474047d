// FileRegionRead: reading a file body into memory, for a transform that needs
// its bytes (on-the-fly compression) where sendfile(2) cannot be used. Like
// sendfile, pread(2) blocks the worker on a page-cache miss.
import Glibc
import ServerSystem

extension FileRegion {
    /// Reads up to `buffer.count` bytes at file offset `offset` with pread(2); 0 at the end of the file.
    package func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int) throws(SystemError) -> Int {
        try blockingSystemCall("pread(fd \(fd), offset \(offset), count \(buffer.count))", {
            Glibc.pread(fd, buffer.baseAddress, buffer.count, off_t(offset))
        })
    }
}

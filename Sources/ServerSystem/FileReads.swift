// FileReads: the file calls of readers outside the request cycle's own paths:
// stat(2) of a path (a TLS key file's permissions, checked before it is read)
// and pread(2) at an offset (a file body read into memory to be encrypted, where
// sendfile(2) cannot carry it).
import Glibc

extension Files {
    /// stat(2) of `path`, following symbolic links as opening it would.
    package static func status(_ path: String) throws(SystemError) -> stat {
        var status = stat()
        _ = try blockingSystemCall("stat(\(path))", { stat(path, &status) })
        return status
    }

    /// Reads up to `buffer.count` bytes of the open file `fd` at `offset` with pread(2); 0 at its end.
    package static func read(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer, at offset: Int) throws(SystemError) -> Int {
        try blockingSystemCall("pread(fd \(fd), offset \(offset), count \(buffer.count))", {
            pread(fd, buffer.baseAddress, buffer.count, off_t(offset))
        })
    }
}

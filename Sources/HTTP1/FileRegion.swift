// FileRegion: a response body that is a run of bytes of an open file. The
// server sends it with sendfile(2), so the bytes go from the page cache to the
// socket without being read into the process.
import Glibc
import ServerSystem

/// A region of an open file (`length` bytes from `offset`), the body of a response.
///
/// It owns its descriptor: the server closes it exactly once, when the body is sent,
/// or the response turns out to have no body (HEAD, 204, 304), or the connection ends
/// first. A region that is never handed to the server closes on release.
public final class FileRegion: Sendable {
    let descriptor: FileDescriptor
    /// Where the body starts in the file, and how many bytes it has.
    public let offset: Int
    public let length: Int

    /// Takes ownership of the open descriptor `fd` and serves `length` bytes from `offset`.
    public convenience init(owning fd: Int32, offset: Int, length: Int) {
        self.init(FileDescriptor(fd), offset: offset, length: length)
    }

    private init(_ descriptor: consuming FileDescriptor, offset: Int, length: Int) {
        precondition(offset >= 0 && length >= 0, "a file region has a non-negative offset and length")
        self.descriptor = descriptor
        self.offset = offset
        self.length = length
    }

    /// The whole regular file at `path`, opened read-only; nil when it does not exist or is not a regular file.
    public static func open(_ path: String) throws(SystemError) -> FileRegion? {
        let file: FileDescriptor
        do {
            file = FileDescriptor(try blockingSystemCall("open(\(path))", { Glibc.open(path, O_RDONLY | O_CLOEXEC) }))
        } catch where error.errno == ENOENT || error.errno == ENOTDIR || error.errno == EISDIR {
            return nil
        }
        var status = stat()
        do {
            _ = try blockingSystemCall("fstat(\(path))", { fstat(file.raw, &status) })
        } catch {
            file.close()
            throw error
        }
        guard (status.st_mode & S_IFMT) == S_IFREG else {
            file.close()
            return nil
        }
        return FileRegion(file, offset: 0, length: Int(status.st_size))
    }

    /// `length` bytes from `offset` of the same file, as a region of its own (a 206's one part).
    /// The descriptor is duplicated (fcntl F_DUPFD_CLOEXEC) so each region keeps one owner;
    /// this region is left as it was, and closes when it is released.
    public func part(offset: Int, length: Int) throws(SystemError) -> FileRegion {
        let raw = descriptor.raw
        let copy = try blockingSystemCall("fcntl(fd \(raw), F_DUPFD_CLOEXEC)", { fcntl(raw, F_DUPFD_CLOEXEC, 0) })
        return FileRegion(FileDescriptor(copy), offset: offset, length: length)
    }

    /// The descriptor's number, for sendfile(2).
    package var fd: Int32 { descriptor.raw }

    /// Whether the descriptor is still open (tests check it is closed once the body is done).
    package var isOpen: Bool { descriptor.isOpen }

    /// Closes the descriptor (once: later calls do nothing).
    package func close() {
        descriptor.close()
    }

    deinit {
        descriptor.close()
    }
}

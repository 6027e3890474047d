// FileRegion: a response body that is a run of bytes of an open file. The
// server sends it with sendfile(2), so the bytes go from the page cache to the
// socket without being read into the process. The file is either the region's
// own (closed once the body is done) or shared (a cache's open file, closed
// when its last holder lets go). A shared one may also carry the cache's copy of
// a small file's bytes, for a transport that must copy the body through memory
// anyway (TLS): then no read is needed to send it.
import Glibc
import ServerSystem

/// A region of an open file (`length` bytes from `offset`), the body of a response.
///
/// A region made with `init(owning:)` owns its descriptor: the server closes it exactly
/// once, when the body is sent, or the response turns out to have no body (HEAD, 204,
/// 304), or the connection ends first; one never handed to the server closes on release.
/// A region made with `init(sharing:)` holds a `SharedFile` instead: finishing the body
/// only lets go of it, and the descriptor stays open for its other holders.
public final class FileRegion: Sendable {
    private let file: SharedFile
    /// Whether finishing the body closes the file (it is this region's alone).
    private let ownsFile: Bool
    /// The whole file's bytes, as the cache that opened it read them (nil: not kept in memory).
    private let contents: [UInt8]?
    /// Where the body starts in the file, and how many bytes it has.
    public let offset: Int
    public let length: Int

    /// Takes ownership of the open descriptor `fd` and serves `length` bytes from `offset`.
    public convenience init(owning fd: Int32, offset: Int, length: Int) {
        self.init(SharedFile(owning: fd), owns: true, offset: offset, length: length)
    }

    /// Serves `length` bytes from `offset` of `file`, which stays open for its other holders.
    /// - Parameter contents: the whole file's bytes when its holder keeps them in memory (they are
    ///   used only when they cover the region, else the file is read).
    public convenience init(sharing file: SharedFile, offset: Int, length: Int, contents: [UInt8]? = nil) {
        self.init(file, owns: false, offset: offset, length: length, contents: contents)
    }

    private init(_ file: SharedFile, owns: Bool, offset: Int, length: Int, contents: [UInt8]? = nil) {
        precondition(offset >= 0 && length >= 0, "a file region has a non-negative offset and length")
        self.file = file
        ownsFile = owns
        self.offset = offset
        self.length = length
        self.contents = contents
    }

    /// The whole regular file at `path`, opened read-only; nil when it does not exist or is not a regular file.
    public static func open(_ path: String) throws(SystemError) -> FileRegion? {
        let fd: Int32
        do {
            fd = try blockingSystemCall("open(\(path))", { Glibc.open(path, O_RDONLY | O_CLOEXEC) })
        } catch where error.errno == ENOENT || error.errno == ENOTDIR || error.errno == EISDIR {
            return nil
        }
        let file = SharedFile(owning: fd)
        var status = stat()
        do {
            _ = try blockingSystemCall("fstat(\(path))", { fstat(file.fd, &status) })
        } catch {
            file.close()
            throw error
        }
        guard (status.st_mode & S_IFMT) == S_IFREG else {
            file.close()
            return nil
        }
        return FileRegion(file, owns: true, offset: 0, length: Int(status.st_size))
    }

    /// The descriptor's number, for sendfile(2).
    package var fd: Int32 { file.fd }

    /// Calls `body` with the region's bytes when they are held in memory; nil when they are not.
    package func withBytesInMemory<Result>(_ body: (UnsafeRawBufferPointer) -> Result) -> Result? {
        guard let contents, offset + length <= contents.count else { return nil }
        return contents.withUnsafeBytes { body(UnsafeRawBufferPointer(rebasing: $0[offset..<offset + length])) }
    }

    /// Whether the descriptor is still open (tests check an owned one is closed once the body is done).
    package var isOpen: Bool { file.isOpen }

    /// Done with the body: closes an owned descriptor (once: later calls do nothing);
    /// a shared one stays open until its last holder releases it.
    package func close() {
        if ownsFile { file.close() }
    }
}

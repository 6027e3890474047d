// OpenedFile: a regular file found under the root, open, with what fstat(2)
// said of it when it was opened: what a response needs (length, modification
// time, identity for validators, type) without another call, and for a small
// file, when the cache keeps them, its bytes as read then.
import Glibc
import HTTP1

/// An open regular file and its facts, as the open-file cache keeps them.
public final class OpenedFile: Sendable {
    /// The open file; a response's body region shares it.
    public let file: SharedFile
    public let size: Int
    /// st_mtim: the modification time (Last-Modified, and the ETag's).
    public let modified: timespec
    /// st_ino and st_dev: which file this is (the ETag's, and how revalidation tells a replaced file).
    public let inode: UInt64
    public let device: UInt64
    public let mediaType: MediaType
    /// ETag and Last-Modified, formatted once for every response of this file.
    public let validators: Validators
    /// The file's bytes, read once with the status above, when the cache keeps small files in memory.
    public let contents: [UInt8]?

    init(file: SharedFile, status: stat, mediaType: MediaType, contents: [UInt8]? = nil) {
        self.file = file
        self.contents = contents
        size = Int(status.st_size)
        modified = status.st_mtim
        inode = UInt64(status.st_ino)
        device = UInt64(status.st_dev)
        self.mediaType = mediaType
        validators = Validators(RepresentationFacts(status))
    }

    /// Whether `status` describes this file unchanged: the same inode, size and modification time.
    func isUnchanged(by status: stat) -> Bool {
        FileVersion(status) == FileVersion(inode: inode, device: device, size: size, modified: modified)
    }

    /// A body region of the whole file, sharing the descriptor.
    public func wholeRegion() -> FileRegion {
        FileRegion(sharing: file, offset: 0, length: size, contents: contents)
    }
}

/// What fstat(2) says tells one version of a file from another: its identity, size and modification time.
struct FileVersion: Equatable {
    let inode: UInt64
    let device: UInt64
    let size: Int
    let seconds: Int
    let nanoseconds: Int

    init(inode: UInt64, device: UInt64, size: Int, modified: timespec) {
        self.inode = inode
        self.device = device
        self.size = size
        seconds = modified.tv_sec
        nanoseconds = modified.tv_nsec
    }

    init(_ status: stat) {
        self.init(inode: UInt64(status.st_ino), device: UInt64(status.st_dev), size: Int(status.st_size),
                  modified: status.st_mtim)
    }
}

/// What looking a name up under the root found.
public enum FileLookup: Sendable {
    case file(OpenedFile)
    case directory
    case missing(RootDirectory.Failure)

    /// Bytes of file contents this lookup holds in memory.
    var bytesInMemory: Int {
        if case .file(let opened) = self { return opened.contents?.count ?? 0 }
        return 0
    }
}

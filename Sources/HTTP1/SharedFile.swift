// SharedFile: an open file that several owners hold at once: an open-file
// cache and the responses sending from it. ARC counts the holders; the
// descriptor is closed when the last one lets go, so a cache may evict the file
// while a response is still sending from it, and neither closes it under the other.
import ServerSystem

/// An open descriptor closed when its last holder releases it.
///
/// Made by a cache that keeps files open between requests; a `FileRegion(sharing:)` holds
/// it for as long as its body is being sent.
public final class SharedFile: Sendable {
    private let descriptor: FileDescriptor

    /// Takes ownership of the open descriptor `fd`.
    public init(owning fd: Int32) {
        descriptor = FileDescriptor(fd)
    }

    /// The descriptor's number, for pread(2), fstat(2) and sendfile(2).
    public var fd: Int32 { descriptor.raw }

    /// Whether the descriptor is still open.
    package var isOpen: Bool { descriptor.isOpen }

    /// Closes now rather than at the last release: for a region that owns its file alone.
    package func close() {
        descriptor.close()
    }

    deinit {
        descriptor.close()
    }
}

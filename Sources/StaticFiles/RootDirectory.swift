// RootDirectory: the served directory, held open, and the one way a file under
// it is opened. Nothing outside it is ever opened: openat2(2) with
// RESOLVE_BENEATH makes the kernel refuse any `..`, absolute path or symbolic
// link that would leave it; on kernels without openat2 (ENOSYS, before 5.6) the
// path is walked one component at a time with openat(O_NOFOLLOW), each link read
// and followed by hand, and refused the moment it would climb above the root.
// Links that stay inside the root are followed either way.
import Glibc
import HTTP1
import ServerSystem

/// A directory that files are served from.
public final class RootDirectory: @unchecked Sendable {
    private let directory: SharedFile
    /// The path it was opened from, for error messages.
    public let path: String
    /// Whether openat2(2) is used; cleared on the first ENOSYS (or by a test, to walk by hand).
    private var usesOpenat2: Bool

    /// Symbolic links followed in one lookup at most, as the kernel's own limit (path_resolution(7)).
    static let maximumLinks = 40

    /// Opens `path`, which must be a directory.
    public init(path: String, usesOpenat2: Bool = true) throws(SystemError) {
        directory = SharedFile(owning: try BeneathCalls.openDirectory(path))
        self.path = path
        self.usesOpenat2 = usesOpenat2
    }

    /// Why a name could not be opened.
    public enum Failure: Error, Equatable {
        /// Nothing there (ENOENT, ENOTDIR, ENAMETOOLONG): 404.
        case missing
        /// There, but not to be served: a link out of the root, a loop of links, no permission: 403.
        case forbidden
    }

    /// Opens `relative` ("" for the root itself) read-only, never outside the root.
    /// Throws `Failure` for what a client asked wrongly, `SystemError` for what went wrong here.
    public func open(_ relative: String) throws -> SharedFile {
        let name = relative.isEmpty ? "." : relative
        do throws(SystemError) {
            if usesOpenat2 {
                do {
                    return SharedFile(owning: try BeneathCalls.openBeneath(directory.fd, name, flags: BeneathCalls.readFlags))
                } catch where error.errno == ENOSYS {
                    usesOpenat2 = false
                }
            }
            return try walk(name)
        } catch {
            if let failure = Self.failure(for: error) { throw failure }
            throw error
        }
    }

    /// Errors that say what the client asked for, rather than that the server failed.
    private static func failure(for error: SystemError) -> Failure? {
        switch error.errno {
        case ENOENT, ENOTDIR, ENAMETOOLONG: return .missing
        case EXDEV, ELOOP, EACCES, EPERM: return .forbidden
        default: return nil
        }
    }

    /// The fallback: one component at a time, never following a link the kernel would
    /// follow for us. `held` are the directories entered so far (closed as they are left);
    /// a `..` pops one, and a `..` with none left would leave the root: EXDEV, as openat2 says.
    private func walk(_ name: String) throws(SystemError) -> SharedFile {
        var pending = Array(name.split(separator: "/", omittingEmptySubsequences: true).reversed().map(String.init))
        if pending.isEmpty { pending = ["."] }
        var held: [SharedFile] = []
        var links = 0
        while let component = pending.popLast() {
            if component == "." && !pending.isEmpty { continue }
            if component == ".." {
                guard held.popLast() != nil else { throw SystemError(call: "openat(\(path)/\(name))", errno: EXDEV) }
                if pending.isEmpty { pending = ["."] }
                continue
            }
            let parent = held.last?.fd ?? directory.fd
            let last = pending.isEmpty
            let flags = last ? BeneathCalls.readFlags : (BeneathCalls.pathOnly | O_DIRECTORY | O_CLOEXEC)
            do throws(SystemError) {
                let opened = SharedFile(owning: try BeneathCalls.openComponent(parent, component, flags: flags))
                if last { return opened }
                held.append(opened)
            } catch where error.errno == ELOOP || (error.errno == ENOTDIR && Self.isLink(parent, component)) {
                links += 1
                guard links <= Self.maximumLinks else { throw error }
                let target = try BeneathCalls.readLink(parent, component)
                // An absolute target starts from "/", which is not the root: it leaves it.
                guard target.first != UInt8(ascii: "/") else { throw SystemError(call: "openat(\(path)/\(name))", errno: EXDEV) }
                let parts = target.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: true)
                pending.append(contentsOf: parts.reversed().map { String(decoding: $0, as: UTF8.self) })
                if parts.isEmpty && last { pending.append(".") }
            }
        }
        return SharedFile(owning: try BeneathCalls.openComponent(held.last?.fd ?? directory.fd, ".", flags: BeneathCalls.readFlags))
    }

    /// O_DIRECTORY|O_NOFOLLOW on a link reports ENOTDIR on some kernels, ELOOP on others: ask.
    private static func isLink(_ parent: Int32, _ name: String) -> Bool {
        (try? BeneathCalls.readLink(parent, name)) != nil
    }

    /// The root's descriptor, for listing it.
    var fd: Int32 { directory.fd }
}

// BeneathCalls: the file-system calls a static file server makes relative to a
// directory it holds open: openat2(2) confined beneath it, openat(2) one
// component at a time without following links, readlinkat(2), fstat(2) and a
// directory's entries. Each wrapped once; errors name the call and its path.
import CEventPoll
import Glibc

package enum BeneathCalls {
    /// Flags for opening what a request names: never blocks on a FIFO (O_NONBLOCK; the file
    /// type is checked after), never becomes a controlling terminal, never leaks into exec.
    package static let readFlags = O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC
    /// O_PATH (asm-generic/fcntl.h), which Glibc's Swift module hides behind _GNU_SOURCE: a
    /// directory opened only to walk through it, not to read it (open(2)).
    package static let pathOnly: Int32 = 0o10000000

    /// openat2(2) of `path` relative to `directory` with RESOLVE_BENEATH: any `..`, absolute
    /// path or symbolic link that would leave `directory` fails with EXDEV, and /proc magic
    /// links with ELOOP. ENOSYS on kernels before 5.6 (the caller falls back to `openComponent`).
    package static func openBeneath(_ directory: Int32, _ path: String, flags: Int32) throws(SystemError) -> Int32 {
        try blockingSystemCall("openat2(fd \(directory), \(path), RESOLVE_BENEATH)", {
            cep_openat2(directory, path, UInt64(UInt32(bitPattern: flags)), CEP_RESOLVE_BENEATH | CEP_RESOLVE_NO_MAGICLINKS)
        })
    }

    /// openat(2) of one name in `directory` with O_NOFOLLOW: a symbolic link fails with ELOOP,
    /// so the caller decides where it leads (open(2), O_NOFOLLOW).
    package static func openComponent(_ directory: Int32, _ name: String, flags: Int32) throws(SystemError) -> Int32 {
        try blockingSystemCall("openat(fd \(directory), \(name), O_NOFOLLOW)", { openat(directory, name, flags | O_NOFOLLOW) })
    }

    /// A directory by its path, for the root a server holds open.
    package static func openDirectory(_ path: String) throws(SystemError) -> Int32 {
        try blockingSystemCall("open(\(path), O_DIRECTORY)", { open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC) })
    }

    /// The target of the symbolic link `name` in `directory` (readlinkat(2)), as bytes.
    package static func readLink(_ directory: Int32, _ name: String) throws(SystemError) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: Int(PATH_MAX))
        let count = try buffer.withUnsafeMutableBytes { raw in
            Result { () throws(SystemError) in
                try blockingSystemCall("readlinkat(fd \(directory), \(name))", {
                    readlinkat(directory, name, raw.baseAddress!.assumingMemoryBound(to: CChar.self), raw.count)
                })
            }
        }.get()
        return Array(buffer[0..<count])
    }

    /// fstat(2) of an open descriptor.
    package static func status(_ fd: Int32) throws(SystemError) -> stat {
        var status = stat()
        _ = try blockingSystemCall("fstat(fd \(fd))", { fstat(fd, &status) })
        return status
    }

    /// One entry of a directory listing.
    package struct Entry: Sendable {
        package let name: [UInt8]
        package let isDirectory: Bool
    }

    /// The entries of the open directory `fd` (without `.` and `..`), at most `limit` of them.
    /// fdopendir(3) takes the descriptor it is given and closedir(3) closes it, so it is given
    /// a dup(2) of `fd` that it owns from then on; `fd` stays its holder's.
    package static func entries(of fd: Int32, limit: Int) throws(SystemError) -> [Entry] {
        let copy = try blockingSystemCall("dup(fd \(fd))", { dup(fd) })
        let opened: OpaquePointer??
        do {
            opened = try systemCall("fdopendir(fd \(copy))", failedIf: { $0 == nil }, { fdopendir(copy) })
        } catch {
            FileDescriptor(copy).close()
            throw error
        }
        guard let stream = opened ?? nil else {
            FileDescriptor(copy).close()
            throw SystemError(call: "fdopendir(fd \(copy))", errno: EAGAIN)
        }
        defer { closedir(stream) }
        rewinddir(stream)
        var entries: [Entry] = []
        while entries.count < limit, let entry = readdir(stream) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                Array(raw.prefix(while: { $0 != 0 }))
            }
            if name == [0x2E] || name == [0x2E, 0x2E] { continue }
            var isDirectory = entry.pointee.d_type == UInt8(DT_DIR)
            if entry.pointee.d_type == UInt8(DT_UNKNOWN) {
                // Some file systems leave d_type unset (readdir(3)); a link is not followed, so it lists as a file.
                var status = stat()
                let path = String(decoding: name, as: UTF8.self)
                let found = try? blockingSystemCall("fstatat(fd \(fd), \(path))", {
                    fstatat(fd, path, &status, AT_SYMLINK_NOFOLLOW)
                })
                isDirectory = found != nil && (status.st_mode & S_IFMT) == S_IFDIR
            }
            entries.append(Entry(name: name, isDirectory: isDirectory))
        }
        return entries
    }
}

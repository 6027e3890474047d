// Files: the few small files the master reads and writes (its pid file, the
// cgroup's memory events, /proc), each through open/read/write wrapped once.
import Glibc

package enum Files {
    /// The whole contents of a small file, or nil when it does not exist.
    package static func read(_ path: String) throws(SystemError) -> String? {
        let file: FileDescriptor
        do {
            file = FileDescriptor(try blockingSystemCall("open(\(path))", { open(path, O_RDONLY | O_CLOEXEC) }))
        } catch where error.errno == ENOENT || error.errno == ENOTDIR {
            return nil
        }
        defer { file.close() }
        let fd = file.raw
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            // withUnsafeMutableBytes rethrows untyped errors: carry the typed one out in a Result.
            let count = try chunk.withUnsafeMutableBytes { buffer in
                Result { () throws(SystemError) in
                    try blockingSystemCall("read(\(path))", { Glibc.read(fd, buffer.baseAddress, buffer.count) })
                }
            }.get()
            if count == 0 { break }
            bytes += chunk[0..<count]
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Replaces `path` with `contents` atomically: a reader sees the old file or the
    /// new one, never a partial write (a temporary file in the same directory, then rename(2)).
    package static func writeAtomically(_ path: String, _ contents: String) throws(SystemError) {
        let temporary = "\(path).tmp.\(getpid())"
        let file = FileDescriptor(try blockingSystemCall("open(\(temporary))", {
            open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        }))
        let fd = file.raw
        do throws(SystemError) {
            let bytes = Array(contents.utf8)
            var offset = 0
            while offset < bytes.count {
                offset += try bytes.withUnsafeBytes { raw in
                    Result { () throws(SystemError) in
                        try blockingSystemCall("write(\(temporary))", { Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset) })
                    }
                }.get()
            }
            file.close()
            try rename(temporary, to: path)
        } catch {
            file.close()
            _ = unlink(temporary)
            throw error
        }
    }

    package static func rename(_ from: String, to: String) throws(SystemError) {
        _ = try blockingSystemCall("rename(\(from), \(to))", { Glibc.rename(from, to) })
    }

    /// Removes a file; one that is already gone is not an error.
    package static func remove(_ path: String) {
        _ = unlink(path)
    }

    /// Where a symbolic link points (for /proc/self/exe), or nil.
    package static func readLink(_ path: String) -> String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let length = readlink(path, &buffer, buffer.count - 1)
        guard length > 0 else { return nil }
        return String(decoding: buffer[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

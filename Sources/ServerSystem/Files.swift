// Files: the few small files the master reads and writes (its pid file, the
// cgroup's memory events, /proc), each through open/read/write wrapped once.
import CEventPoll
import Glibc

package enum Files {
    /// The whole contents of a small file (its first `limit` bytes), or nil when it does not exist.
    package static func read(_ path: String, atMost limit: Int = .max) throws(SystemError) -> String? {
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
            bytes += chunk[0..<min(count, limit - bytes.count)]
            if bytes.count >= limit { break }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Replaces `path` with `contents` atomically: a reader sees the old file or the
    /// new one, never a partial write (a temporary file in the same directory, then
    /// rename(2), which replaces `path` itself even when it is a symbolic link). The
    /// temporary file is removed if anything fails.
    package static func writeAtomically(_ path: String, _ contents: String) throws(SystemError) {
        var temporary = ""
        let file = try createTemporary(beside: path, named: &temporary)
        let written = Result { () throws(SystemError) in
            try writeAll(contents, to: file.raw, naming: temporary)
            // mkostemp(3) creates the file 0600; a pid file is for everyone to read.
            _ = try blockingSystemCall("fchmod(\(temporary), 0644)", { fchmod(file.raw, 0o644) })
        }
        file.close()
        do throws(SystemError) {
            try written.get()
            try rename(temporary, to: path)
        } catch {
            _ = unlink(temporary)
            throw error
        }
    }

    /// A new file `PATH.tmp.XXXXXX` beside `path` (its name stored in `name`), open for writing, close-on-exec. The
    /// directory may be writable by others (/run, /tmp) while the master is root: so the
    /// name is not predictable, and mkostemp(3) creates it with O_CREAT|O_EXCL, which
    /// fails on any existing name, a planted symbolic link included (open(2)).
    private static func createTemporary(beside path: String, named name: inout String) throws(SystemError) -> FileDescriptor {
        var template = Array("\(path).tmp.XXXXXX".utf8CString)
        let fd = try blockingSystemCall("mkostemp(\(path).tmp.XXXXXX, O_CLOEXEC)", {
            template.withUnsafeMutableBufferPointer { cep_create_temporary($0.baseAddress!) }
        })
        name = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return FileDescriptor(fd)
    }

    private static func writeAll(_ contents: String, to fd: Int32, naming path: String) throws(SystemError) {
        let bytes = Array(contents.utf8)
        var offset = 0
        while offset < bytes.count {
            // withUnsafeBytes rethrows untyped errors: carry the typed one out in a Result.
            offset += try bytes.withUnsafeBytes { raw in
                Result { () throws(SystemError) in
                    try blockingSystemCall("write(\(path))", { Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset) })
                }
            }.get()
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

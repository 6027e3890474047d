// TLSSession+Files: a file body over TLS. Without kernel TLS the bytes must be
// encrypted in user space, so sendfile(2) cannot carry them: each call reads at
// most one record's worth (16 KiB, RFC 8446 §5.1) with pread(2) into a buffer
// that lives only for the call, and writes it with SSL_write. After a want, the
// retry reads the same bytes again from the same offset, which is what OpenSSL
// requires of a repeated write (SSL_write(3)).
import ServerSystem

extension TLSSession {
    /// The most one call reads from the file: one full TLS record.
    static let fileChunkBytes = 16 * 1024

    package func sendFile(from file: Int32, offset: inout Int, count: Int) throws(SystemError) -> WriteOutcome {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: min(count, Self.fileChunkBytes), alignment: 16)
        defer { buffer.deallocate() }
        let length = try Files.read(file, into: buffer, at: offset)
        guard length > 0 else { return .wrote(0) }  // the file ended early
        let outcome = try write(UnsafeRawBufferPointer(rebasing: buffer[0..<length]), moreFollows: false)
        if case .wrote(let sent) = outcome { offset += sent }
        return outcome
    }
}

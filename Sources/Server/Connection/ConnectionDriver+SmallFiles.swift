// ConnectionDriver+SmallFiles: a small file body read straight into the output
// behind its head, on a transport that copies file bodies through user space
// anyway (TLS without kernel TLS). Held as a pending body, each such answer
// was a pread, an SSL_write and a send of its own, and the pipelined requests
// behind it waited for it to leave; read here, the answers to 16 pipelined
// requests leave in one record and one send, and the client decrypts one
// record instead of 16. The bytes come from memory when the open-file cache
// keeps them (a small file's, read when it was opened), else from one pread(2).
// A plain socket keeps sendfile(2): its file bytes never enter the process.
import HTTP1
import ServerSystem

extension ConnectionDriver {
    /// The largest body read into the output: one TLS record's plaintext (RFC 8446 §5.1), so the shared
    /// output buffer (`readSize`) still holds it after `queuedOutputBound` of queued answers.
    package static let inlineFileBytes = 16 * 1024

    /// Reads `response`'s file body into the shared output, after the head just written there, when it is
    /// small and the transport copies file bodies; returns whether it did (the file is then let go, and
    /// no body is held). Like every body under `FileSendSettings.probeMinimumBytes`, it is read without
    /// asking the page cache first. A read that fails or comes back short (the file shrank) adds nothing:
    /// the body is then held and sent as any other, which meets the failure itself.
    func readSmallFileBody<T: Transport & ~Copyable>(of response: Response, for head: RequestHead,
                                                     on connection: Connection<T>) -> Bool {
        guard case .file(let region) = response.body, region.length <= Self.inlineFileBytes,
              connection.transport.copiesFileBodies, ResponseWriter.bodyLength(of: response, for: head) > 0 else {
            return false
        }
        let length = region.length
        let read = scratchOutput.withWritableSpace(minimum: length, atMost: length) { space in
            let copied = region.withBytesInMemory { bytes in
                space.copyMemory(from: bytes)
                return length
            }
            if let copied { return copied }
            let count = (try? Files.read(region.fd, into: space, at: region.offset)) ?? 0
            return count == length ? length : 0
        }
        guard read == length else { return false }
        region.close()
        record.add(.fileBytesOut, UInt64(length))
        return true
    }
}

// MultipartRanges: the body of a 206 with several parts (RFC 9110 §14.6,
// multipart/byteranges), produced as a stream of part headers and file
// regions: its exact length is known before the first byte, and the file is
// read a piece at a time (pread into the connection's output), never whole.
//
// Why a stream and not sendfile per part (nginx chains header buffers and file
// buffers and sends the file ones with sendfile): such answers are rare (PDF
// readers, download accelerators) and bounded (ByteRanges.maximumParts, and no
// more bytes than the file), and a stream needs no new kind of body in the
// connection's send path. The price is one copy of the parts through user space.
import Glibc
import ServerSystem

public enum MultipartRanges {
    /// The body and its Content-Type value for `ranges` of `file` (a whole file of `size` bytes).
    public static func body(_ ranges: [ByteRange], of file: SharedFile, size: Int,
                            partContentType: String) -> (body: BodyStream, contentType: String) {
        let boundary = Self.boundary()
        var segments: [MultipartProducer.Segment] = []
        segments.reserveCapacity(ranges.count * 2 + 1)
        var length = 0
        for range in ranges {
            // nginx's layout: each part starts with CRLF, so the body starts with one (RFC 2046 §5.1.1 allows it).
            let head = Array(("\r\n--" + boundary + "\r\nContent-Type: " + partContentType
                + "\r\nContent-Range: bytes \(range.start)-\(range.end - 1)/\(size)\r\n\r\n").utf8)
            segments.append(.text(head))
            segments.append(.file(range))
            length += head.count + range.length
        }
        let closing = Array(("\r\n--" + boundary + "--\r\n").utf8)
        segments.append(.text(closing))
        length += closing.count
        let producer = MultipartProducer(file: file, segments: segments)
        return (BodyStream(length: length, producer: producer), "multipart/byteranges; boundary=" + boundary)
    }

    /// 20 random decimal digits (nginx: a 20-digit counter): unlikely to occur in the file,
    /// as RFC 2046 §5.1.1 asks of a boundary, and not predictable from one answer to the next.
    static func boundary() -> String {
        let digits = String(UInt64.random(in: 0...UInt64.max))
        return String(repeating: "0", count: 20 - digits.count) + digits
    }
}

/// Writes the segments in order: part headers from memory, file parts with pread(2).
final class MultipartProducer: BodyProducer, @unchecked Sendable {
    enum Segment {
        case text([UInt8])
        case file(ByteRange)
    }

    /// Unchecked Sendable: the server calls `produce` from the one thread that runs the connection.
    private let file: SharedFile
    private let segments: [Segment]
    private var segment = 0
    /// Bytes of the current segment already produced.
    private var done = 0

    init(file: SharedFile, segments: [Segment]) {
        self.file = file
        self.segments = segments
    }

    func produce(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        var written = 0
        while written < buffer.count && segment < segments.count {
            let space = UnsafeMutableRawBufferPointer(rebasing: buffer[written...])
            let count: Int
            switch segments[segment] {
            case .text(let bytes):
                count = min(bytes.count - done, space.count)
                bytes.withUnsafeBytes { space.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[done..<(done + count)])) }
                advance(by: count, of: bytes.count)
            case .file(let range):
                // A failed or short read (the file shrank) ends the body early: the connection closes.
                guard let read = readFile(range, into: space), read > 0 else { return written }
                count = read
                advance(by: count, of: range.length)
            }
            written += count
        }
        return written
    }

    private func advance(by count: Int, of segmentLength: Int) {
        done += count
        if done == segmentLength {
            segment += 1
            done = 0
        }
    }

    private func readFile(_ range: ByteRange, into space: UnsafeMutableRawBufferPointer) -> Int? {
        let fd = file.fd
        let offset = range.start + done
        let count = min(range.length - done, space.count)
        do {
            return try systemCall("pread(fd \(fd), \(count) at \(offset))", { pread(fd, space.baseAddress, count, off_t(offset)) })
        } catch {
            return nil
        }
    }
}

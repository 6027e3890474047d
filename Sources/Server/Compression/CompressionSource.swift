// CompressionSource: where the bytes of a body being compressed come from,
// and reading the next run of them. Bytes in memory are deflated where they
// are; a file is read with pread(2) in bounded pieces into a staging buffer
// (like sendfile, pread blocks the worker on a page-cache miss: a cold file
// stalls its other connections for the length of the disk read); a handler's
// stream is pulled into the staging buffer as the socket drains.
import HTTP1
import ServerSystem

enum CompressionSource {
    case bytes([UInt8])
    case text(StaticString)
    case file(FileRegion)
    case stream(BodyStream)

    /// The source of `body`, nil for an empty one.
    init?(_ body: ResponseBody) {
        switch body {
        case .empty: return nil
        case .text(let text): self = .text(text)
        case .bytes(let bytes): self = .bytes(bytes)
        case .file(let region): self = .file(region)
        case .stream(let stream): self = .stream(stream)
        }
    }

    /// Bytes staged per read of a file or pull of a stream: the most this adds to a connection's memory.
    static let stagingSize = 32 * 1024

    /// What a read of the next bytes found.
    enum Read {
        /// Bytes are staged (or, in memory, available) to deflate.
        case bytes(Int)
        /// The source is exhausted.
        case end
        /// The source cannot supply the bytes it promised: the body cannot be completed.
        case failed
    }

    /// Reads the source's next bytes after `position` into `staging` (files and streams only).
    func read(after position: Int, into staging: UnsafeMutableRawBufferPointer) -> Read {
        switch self {
        case .bytes, .text:
            preconditionFailure("bytes in memory are deflated in place")
        case .file(let region):
            let remaining = region.length - position
            guard remaining > 0 else { return .end }
            let space = UnsafeMutableRawBufferPointer(rebasing: staging[..<min(staging.count, remaining)])
            // A file that shrank under the response (0 before its length) cannot give the body it promised.
            guard let count = try? region.read(into: space, at: region.offset + position), count > 0 else { return .failed }
            return .bytes(count)
        case .stream(let stream):
            if let length = stream.length, position >= length { return .end }
            let limit = stream.length.map { min(staging.count, $0 - position) } ?? staging.count
            let count = stream.produce(into: UnsafeMutableRawBufferPointer(rebasing: staging[..<limit]))
            if count > 0 { return .bytes(count) }
            // A stream of known length that stops short of it, or one that failed, cannot be completed.
            return count == 0 && stream.length == nil ? .end : .failed
        }
    }

    /// Whether the bytes are deflated in place rather than staged.
    var isInMemory: Bool {
        switch self {
        case .bytes, .text: return true
        case .file, .stream: return false
        }
    }

    /// The source's length when known in advance.
    var length: Int? {
        switch self {
        case .bytes(let bytes): return bytes.count
        case .text(let text): return text.utf8CodeUnitCount
        case .file(let region): return region.length
        case .stream(let stream): return stream.length
        }
    }

    /// Done with the source: a file is closed now rather than when the body is released.
    func close() {
        if case .file(let region) = self { region.close() }
    }
}

// BodyReading: what the response body tests read with: a raw reader of heads,
// exact byte counts and chunked bodies from a socket, and a strace(1) of a
// worker's sendfile/read/pread64 calls, to see where a file's bytes went.
import Foundation
import Glibc
import TestSupport

/// Reads a response byte-exactly from a connected socket (whose SO_RCVTIMEO bounds every wait).
struct RawReader {
    let fd: Int32
    private var buffered: [UInt8] = []

    init(fd: Int32) { self.fd = fd }

    /// The head up to and including its empty line.
    mutating func readHead() throws -> String {
        while true {
            if let end = Self.headEnd(in: buffered) {
                let head = String(decoding: buffered[..<end], as: UTF8.self)
                buffered.removeFirst(end)
                return head
            }
            guard try receive() else { throw LaunchError("closed before a head; got \(buffered.count) bytes") }
        }
    }

    /// Up to `limit` bytes: those buffered, else one recv; empty at end of stream.
    mutating func read(atMost limit: Int) throws -> [UInt8] {
        if buffered.isEmpty { _ = try receive(atMost: limit) }
        let piece = Array(buffered.prefix(limit))
        buffered.removeFirst(piece.count)
        return piece
    }

    mutating func read(exactly count: Int) throws -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(count)
        while bytes.count < count {
            let piece = try read(atMost: count - bytes.count)
            if piece.isEmpty { throw LaunchError("closed after \(bytes.count) of \(count) bytes") }
            bytes += piece
        }
        return bytes
    }

    /// A chunked body (RFC 9112 §7.1) without trailer fields: its data.
    mutating func readChunkedBody() throws -> [UInt8] {
        var body: [UInt8] = []
        while true {
            let line = try readLine()
            guard let size = Int(line, radix: 16) else { throw LaunchError("bad chunk size line \(line.debugDescription)") }
            if size == 0 {
                guard try readLine().isEmpty else { throw LaunchError("trailer fields after the last chunk") }
                return body
            }
            body += try read(exactly: size)
            guard try read(exactly: 2) == [13, 10] else { throw LaunchError("chunk data without its CRLF") }
        }
    }

    private mutating func readLine() throws -> String {
        while true {
            if let lf = buffered.firstIndex(of: 10), lf > 0, buffered[lf - 1] == 13 {
                let line = String(decoding: buffered[..<(lf - 1)], as: UTF8.self)
                buffered.removeFirst(lf + 1)
                return line
            }
            guard try receive() else { throw LaunchError("closed inside a chunk size line") }
        }
    }

    /// One recv into the buffer: false at end of stream.
    private mutating func receive(atMost limit: Int = 64 * 1024) throws -> Bool {
        var chunk = [UInt8](repeating: 0, count: max(1, min(limit, 256 * 1024)))
        let count = recv(fd, &chunk, chunk.count, 0)
        if count < 0 { throw LaunchError("recv: errno \(errno)") }
        buffered += chunk[..<count]
        return count > 0
    }

    private static func headEnd(in bytes: [UInt8]) -> Int? {
        guard bytes.count >= 4 else { return nil }
        for index in 0...(bytes.count - 4) where bytes[index] == 13 && bytes[index + 1] == 10
            && bytes[index + 2] == 13 && bytes[index + 3] == 10 {
            return index + 4
        }
        return nil
    }
}

/// `strace -f -e trace=sendfile,read,pread64` attached to a process (Strace), or nil (with a
/// message) when strace is missing or may not attach: then the test checks the rest without it.
final class SyscallTrace {
    struct Calls {
        /// Bytes sendfile(2) reported sent, and how often it met a full socket.
        var sentByFile = 0
        var sendFileWouldBlock = 0
        /// read/pread64 calls on a descriptor that sendfile used as its source file.
        var readsOfFile = 0
        var summary: String { "sendfile sent \(sentByFile) bytes, EAGAIN \(sendFileWouldBlock) times; file reads \(readsOfFile)" }
    }

    private let trace: Strace

    init?(pid target: pid_t) {
        guard let trace = Strace(pid: target, calls: "sendfile,read,pread64") else { return nil }
        self.trace = trace
    }

    /// Detaches and tallies the calls.
    func finish() -> Calls {
        let lines = trace.finish()
        var calls = Calls()
        var fileDescriptors = Set<Substring>()
        var readDescriptors: [Substring] = []
        for line in lines {
            // strace pads short calls' " = result" out to a column.
            guard let open = line.firstIndex(of: "("), let result = line.range(of: #"\) *= "#, options: [.regularExpression, .backwards]) else { continue }
            let name = line[..<open].split(separator: " ").last ?? ""
            let arguments = line[line.index(after: open)...].split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            let value = line[result.upperBound...]
            if name == "sendfile", arguments.count > 1 {
                fileDescriptors.insert(Substring(arguments[1]))
                if value.hasPrefix("-1 EAGAIN") { calls.sendFileWouldBlock += 1 } else { calls.sentByFile += Int(value.split(separator: " ").first ?? "") ?? 0 }
            } else if name == "read" || name == "pread64", let first = arguments.first {
                readDescriptors.append(Substring(first))
            }
        }
        calls.readsOfFile = readDescriptors.filter(fileDescriptors.contains).count
        return calls
    }
}

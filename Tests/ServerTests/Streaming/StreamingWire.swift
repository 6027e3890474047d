// StreamingWire: what the streaming tests need beyond TestClient: a response
// read as raw bytes (Content-Length or chunked, binary bodies), a chunked
// request body written piece by piece, the CRC-32 the example's streaming
// routes answer with, and a worker's memory from /proc.
import CZlib
import Glibc
import TestSupport
import XCTest

/// A response read as bytes.
struct StreamedResponse {
    let status: Int
    let head: String
    let body: [UInt8]

    var text: String { String(decoding: body, as: UTF8.self) }
    var isChunked: Bool { head.lowercased().contains("transfer-encoding: chunked") }
}

/// Reads responses off a TestClient's socket by itself (never mix with TestClient.readResponse on one client).
final class ResponseReader {
    let client: TestClient
    private var buffered: [UInt8] = []

    init(_ client: TestClient) {
        self.client = client
    }

    /// One response: its head, then Content-Length bytes or the decoded chunks.
    func response() throws -> StreamedResponse {
        let headEnd = try fill { Self.find(Array("\r\n\r\n".utf8), in: $0).map { $0.upperBound } }
        let head = String(decoding: buffered[..<headEnd], as: UTF8.self)
        buffered.removeFirst(headEnd)
        let parts = head.split(separator: " ", maxSplits: 2)
        guard parts.count >= 2, let status = Int(parts[1]) else { throw LaunchError("bad status line in \(head)") }
        let lower = head.lowercased()
        if lower.contains("transfer-encoding: chunked") { return StreamedResponse(status: status, head: head, body: try chunkedBody()) }
        let length = lower.split(separator: "\r\n").first { $0.hasPrefix("content-length:") }
            .flatMap { Int($0.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) } ?? 0
        _ = try fill { $0.count >= length ? length : nil }
        let body = Array(buffered[..<length])
        buffered.removeFirst(length)
        return StreamedResponse(status: status, head: head, body: body)
    }

    private func chunkedBody() throws -> [UInt8] {
        var body: [UInt8] = []
        while true {
            let lineEnd = try fill { Self.find([13, 10], in: $0).map { $0.upperBound } }
            let line = String(decoding: buffered[..<(lineEnd - 2)], as: UTF8.self)
            buffered.removeFirst(lineEnd)
            guard let size = Int(line.split(separator: ";").first ?? "", radix: 16) else { throw LaunchError("bad chunk line \(line)") }
            if size == 0 {
                _ = try fill { $0.count >= 2 ? 2 : nil }  // no trailers from this server
                buffered.removeFirst(2)
                return body
            }
            _ = try fill { $0.count >= size + 2 ? size + 2 : nil }
            body += buffered[..<size]
            buffered.removeFirst(size + 2)
        }
    }

    /// Reads and discards `count` bytes (or until the connection ends); returns how many arrived.
    func discard(atLeast count: Int) -> Int {
        var received = buffered.count
        buffered = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while received < count {
            let got = recv(client.fd, &chunk, chunk.count, 0)
            guard got > 0 else { break }
            received += got
        }
        return received
    }

    private func fill(until found: ([UInt8]) -> Int?) throws -> Int {
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            if let end = found(buffered) { return end }
            let count = recv(client.fd, &chunk, chunk.count, 0)
            guard count > 0 else { throw LaunchError("connection ended (recv \(count), errno \(errno)) with \(buffered.count) bytes unread") }
            buffered += chunk[..<count]
        }
    }

    private static func find(_ needle: [UInt8], in haystack: [UInt8]) -> Range<Int>? {
        guard haystack.count >= needle.count else { return nil }
        for start in 0...(haystack.count - needle.count) where haystack[start] == needle[0] {
            if Array(haystack[start..<(start + needle.count)]) == needle { return start..<(start + needle.count) }
        }
        return nil
    }
}

/// What the example's /stream/crc answers for a body: its length and CRC-32.
struct BodySummary {
    private(set) var count = 0
    private(set) var crc = crc32(0, nil, 0)

    mutating func add(_ bytes: [UInt8]) {
        count += bytes.count
        crc = bytes.withUnsafeBufferPointer { crc32(crc, $0.baseAddress, uInt($0.count)) }
    }

    var line: String {
        let hex = String(crc, radix: 16)
        return "\(count) bytes, crc32 \(String(repeating: "0", count: max(0, 8 - hex.count)) + hex)\n"
    }

    static func of(_ bytes: [UInt8]) -> BodySummary {
        var summary = BodySummary()
        summary.add(bytes)
        return summary
    }
}

enum StreamingWire {
    /// `count` bytes that differ from one run to the next (a linear congruential sequence).
    static func bytes(_ count: Int, seed: UInt32 = 1) -> [UInt8] {
        var state = seed
        return (0..<count).map { _ in
            state = state &* 1_103_515_245 &+ 12_345
            return UInt8(truncatingIfNeeded: state >> 16)
        }
    }

    /// One chunk of a chunked body: size line, data, CRLF.
    static func chunk(_ data: [UInt8], extensions: String = "") -> [UInt8] {
        Array("\(String(data.count, radix: 16))\(extensions)\r\n".utf8) + data + [13, 10]
    }

    static let lastChunk = Array("0\r\n\r\n".utf8)

    static func head(_ target: String, method: String = "POST", fields: String) -> String {
        "\(method) \(target) HTTP/1.1\r\nHost: t\r\n\(fields)\r\n"
    }

    /// A field of /proc/PID/status in KiB (VmRSS, VmHWM).
    static func memoryKilobytes(_ field: String, of pid: pid_t) -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("\(field):") }) else { return nil }
        return Int(line.split(separator: " ", omittingEmptySubsequences: true)[1])
    }

    /// A counter route's number (/stream/produced, /stream/interrupted), on a connection of its own.
    static func counter(_ path: String, port: Int) -> Int? {
        guard let client = try? TestClient(port: port), let response = try? client.get(path) else { return nil }
        return Int(response.body.trimmingCharacters(in: .whitespacesAndNewlines))
    }
}

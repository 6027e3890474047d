// GzipWire: what the gzip integration tests share: a compressible text file of
// a given size, one raw HTTP exchange read byte-exactly (either framing), curl
// when it is installed, and a worker's resident memory and open descriptors.
import Foundation
import Glibc
import TestSupport
import XCTest

/// One response read from a raw socket: its head and its body as sent (de-chunked, not decoded).
struct WireResponse {
    let head: String
    let body: [UInt8]

    func has(_ field: String) -> Bool { head.lowercased().contains("\r\n" + field.lowercased()) }
    var isGzipped: Bool { has("content-encoding: gzip\r\n") }
    var varies: Bool { has("vary: accept-encoding\r\n") }
    /// The body decoded when gzipped, else as sent.
    var decoded: [UInt8]? { isGzipped ? Gunzip.decode(body) : body }
}

enum GzipWire {
    /// Sends `request` (the whole text) and reads one response; `method` HEAD reads no body.
    static func exchange(_ reader: inout RawReader, _ client: TestClient, _ request: String, head: Bool = false) throws -> WireResponse {
        try client.send(request)
        return try read(&reader, head: head)
    }

    static func read(_ reader: inout RawReader, head isHead: Bool = false) throws -> WireResponse {
        let head = try reader.readHead()
        if isHead { return WireResponse(head: head, body: []) }
        if head.lowercased().contains("transfer-encoding: chunked") { return WireResponse(head: head, body: try reader.readChunkedBody()) }
        let length = head.split(separator: "\r\n").first { $0.lowercased().hasPrefix("content-length:") }
            .flatMap { Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) } ?? 0
        return WireResponse(head: head, body: try reader.read(exactly: length))
    }

    static func get(_ path: String, acceptEncoding: String? = "gzip", version: String = "1.1", method: String = "GET",
                    close: Bool = false) -> String {
        "\(method) \(path) HTTP/\(version)\r\nHost: t\r\n" + (acceptEncoding.map { "Accept-Encoding: \($0)\r\n" } ?? "")
            + (close ? "Connection: close\r\n" : "") + "\r\n"
    }

    /// `megabytes` MiB of text: compressible (words, to about a third), or not much (random
    /// letters and digits, to about three quarters: large compressed too, so buffering either form would show).
    static func textFile(megabytes: Int, compressible: Bool = false) throws -> (path: String, bytes: [UInt8]) {
        var generator = SystemRandomNumberGenerator()
        var block: [UInt8] = []
        block.reserveCapacity((1 << 20) + 16)
        if compressible {
            // Words of HTML-ish text in random order: deflates to about a third.
            let words = ["<div>", "</div>", "class=\"item\"", "the", "quick", "brown", "fox", "jumps", "over", "lazy",
                         "dog", "lorem", "ipsum", "dolor", "sit", "amet"].map { Array($0.utf8) }
            while block.count < 1 << 20 {
                block += words[Int(generator.next() % UInt64(words.count))]
                block.append(generator.next() % 10 == 0 ? 10 : 32)
            }
            block.removeLast(block.count - (1 << 20))
        } else {
            let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ+/".utf8)
            for index in 0..<(1 << 20) { block.append(index % 80 == 79 ? 10 : alphabet[Int(generator.next() % 64)]) }
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(megabytes << 20)
        for index in 0..<megabytes {
            var stamped = block
            // Each MiB different at its start, so a misplaced one shows.
            let stamp = Array(String(format: "%08d", index).utf8)
            stamped.replaceSubrange(0..<stamp.count, with: stamp)
            bytes += stamped
        }
        let path = NSTemporaryDirectory() + "gzip-text-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).txt"
        guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else { throw LaunchError("cannot write \(path)") }
        return (path, bytes)
    }

    /// curl's path, or nil (the caller skips, naming it).
    static var curl: String? { ["/usr/bin/curl", "/bin/curl"].first { access($0, X_OK) == 0 } }

    /// The worker's resident set (VmRSS), in bytes.
    static func residentBytes(of pid: pid_t) -> Int {
        let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
        return (Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0) * 1024
    }

    static func openDescriptors(of pid: pid_t) -> Int {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd")) ?? []).count
    }
}

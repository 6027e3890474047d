// TLSSmallFileTests: over TLS without kernel TLS, a small file body (up to one
// record, 16 KiB) is copied into the output behind its head from the bytes the
// open file cache keeps, so the answers to pipelined requests leave in one send
// with no read at all, instead of a pread, an SSL_write and a send each (seen
// with strace on the worker); the bodies, ranges, HEAD answers and access log
// lines are what they were, and a body one byte over the bound is still sent
// after its head. A kept file edited in place is answered with the bytes its
// entry describes (its ETag and length) while the entry is trusted; past the
// cache's content budget a small file is read (pread) per answer, and one that
// shrank under the cache is cut short, not padded. /metrics shows the bytes kept.
import Foundation
import Glibc
import TestSupport
import XCTest

final class TLSSmallFileTests: XCTestCase {
    private var pki: TestCertificates!
    private var pair: TestCertificates.Pair!
    private var root = ""
    private var files: [String: [UInt8]] = [:]

    override func setUpWithError() throws {
        try TestCertificates.requireTools()
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: "/usr/bin/python3"), "python3 is missing: apt-get install python3")
        pki = try TestCertificates()
        pair = try pki.leaf("small")
        root = pki.directory + "/root"
        XCTAssertEqual(mkdir(root, 0o755), 0)
        files = ["a.txt": Array("hello, tls\n".utf8),
                 "b.css": Array(repeating: UInt8(ascii: "b"), count: 300),
                 "edge.bin": (0..<(16 << 10)).map { UInt8(truncatingIfNeeded: $0 &* 7) },
                 "over.bin": (0..<((16 << 10) + 1)).map { UInt8(truncatingIfNeeded: $0 &* 13) }]
        for (name, bytes) in files {
            XCTAssertTrue(FileManager.default.createFile(atPath: root + "/" + name, contents: Data(bytes)))
        }
    }

    func testPipelinedSmallFileAnswersLeaveInOneSendAndArriveIntact() throws {
        let log = pki.directory + "/access.log"
        let server = try startServer(["--access-log", log])
        let worker = try XCTUnwrap(server.onlyWorkerPID(), "the worker started")
        let trace = try Strace.required(pid: worker, calls: "read,write,sendto,pread64")
        let batch = ["GET /a.txt", "GET /b.css", "GET /edge.bin", "HEAD /b.css", "GET /a.txt bytes=1-4"]
            + Array(repeating: "GET /a.txt", count: 11)
        // Each file alone first (the handshake and its tickets; the cache opens the files and keeps their
        // bytes), the 16 in one write, then one more request (so strace has written the batch's lines by
        // the end), a body one byte over the bound.
        let first = ["GET /a.txt", "GET /b.css", "GET /edge.bin"]
        let output = try runClient(server.port, first + ["batch"] + batch + ["end", "GET /over.bin"])
        let calls = trace.finish()
        XCTAssertEqual(output, (first + batch + ["GET /over.bin"]).map(expectedAnswer), "the answers")
        // read(fd, "..."..., asked) = got; the batch is the largest record the client sends (about 1.6 KB).
        let reads = calls.indices.filter { calls[$0].contains("read(") && !calls[$0].contains("pread64(") }
        let got = { (index: Int) in Int(calls[index].firstMatch(of: /\) += (\d+)$/)?.1 ?? "") ?? 0 }
        let batchRead = try XCTUnwrap(reads.max { got($0) < got($1) }, "the worker's reads: \(calls)")
        let nextRead = try XCTUnwrap(reads.first { $0 > batchRead }, "the last request's read: \(calls)")
        let sends = calls[(batchRead + 1)..<nextRead].filter { $0.contains("write(") || $0.contains("sendto(") }
        XCTAssertEqual(sends.count, 1, "the 16 answers in one send: \(sends)")
        let fileReads = calls[(batchRead + 1)..<nextRead].filter { $0.contains("pread64(") }
        XCTAssertEqual(fileReads, [], "the bodies came from the bytes the cache keeps")
        let sent = Int(sends.first?.firstMatch(of: /\) += (\d+)$/)?.1 ?? "") ?? 0
        XCTAssertGreaterThan(sent, (16 << 10) + 300 + 12 * 11 + 4, "the bodies went with it: \(sends)")
        XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
        let lines = ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").split(separator: "\n")
        // $body_bytes_sent, as for a body sent after its head: the bytes, 0 for HEAD, the range's for a 206.
        let logged = lines.compactMap { line -> String? in
            guard let match = line.firstMatch(of: /"(\w+ \S+) HTTP\/1\.1" (\d+) (\d+)/) else { return nil }
            return "\(match.1) \(match.2) \(match.3)"
        }
        XCTAssertEqual(Set(logged), ["GET /a.txt 200 11", "GET /b.css 200 300", "GET /edge.bin 200 16384", "HEAD /b.css 200 0",
                                     "GET /a.txt 206 4", "GET /over.bin 200 16385"], "\(lines)")
        XCTAssertEqual(logged.count, 20, "one line per request: \(lines)")
    }

    func testAKeptFileEditedInPlaceIsAnsweredAsItsEntryDescribesIt() throws {
        let server = try startServer()
        let get = curl(server.port, "/b.css", printing: "%{http_code} %{size_download} %header{etag}")
        let before = try TestCertificates.shellSucceeding(get)
        XCTAssertTrue(before.hasPrefix("200 300 "), before)
        XCTAssertEqual(truncate(root + "/b.css", 10), 0)
        // The entry is trusted for 60 s (OpenFileCacheUnitTests checks the new bytes after revalidation).
        let meanwhile = try TestCertificates.shell(get)
        XCTAssertEqual(meanwhile.status, 0, "the kept bytes, whole: \(meanwhile.stderr)")
        XCTAssertEqual(meanwhile.stdout, before, "the 300 bytes, ETag and length the entry describes")
        XCTAssertEqual(try metric(server.port, "file_cache_content_bytes"), 300, "/metrics: the 300 bytes kept")
        XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
    }

    func testPastTheContentBudgetASmallFileIsReadAndCutShortWhenItShrank() throws {
        // 256 files of 16 KiB fill the 4 MiB of bytes the cache keeps per worker; b.css comes after them.
        let fill = (0..<256).map { String(format: "fill%03d.bin", $0) }
        let block = Data(repeating: UInt8(ascii: "f"), count: 16 << 10)
        for name in fill { XCTAssertTrue(FileManager.default.createFile(atPath: root + "/" + name, contents: block)) }
        let server = try startServer()
        let answers = try runClient(server.port, fill.map { "GET /" + $0 } + ["GET /b.css"])
        XCTAssertEqual(answers.count, 257)
        XCTAssertEqual(answers.last, expectedAnswer("GET /b.css"))
        XCTAssertEqual(try metric(server.port, "file_cache_content_bytes"), Double(4 << 20), "/metrics: the budget, full")
        // The open file cache trusts its entry (the length it announces) for 60 s; the file now has 10 bytes.
        XCTAssertEqual(truncate(root + "/b.css", 10), 0)
        let shrunk = try TestCertificates.shell(curl(server.port, "/b.css", printing: "%{http_code} %{size_download}"))
        XCTAssertEqual(shrunk.status, 18, "curl: the transfer ended before its Content-Length (\(shrunk.stderr))")
        XCTAssertEqual(shrunk.stdout, "200 10", "the 10 bytes the file has, then the connection's end")
        XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
    }

    // MARK: - Helpers

    /// One worker serving `root` over TLS, with room in its open file cache for every file of these tests
    /// whatever the descriptor limit (`--max-connections` leaves it the descriptors); skips where kernel
    /// TLS sends file bodies, as nothing is then copied into the output or kept.
    private func startServer(_ flags: [String] = []) throws -> ServerProcess {
        let server = try ServerProcess(["--listen", "127.0.0.1:0,tls", "--workers", "1", "--root", root,
                                        "--max-connections", "100", "--open-file-cache", "1000"] + flags + pair.flags)
        try XCTSkipUnless(server.startupLine.contains("by pread and SSL_write"),
                          "kernel TLS sends file bodies by SSL_sendfile here: nothing is read into the output")
        return server
    }

    /// A curl command getting `path` once over TLS, printing `format` (its -w).
    private func curl(_ port: Int, _ path: String, printing format: String) -> String {
        "curl -sS --http1.1 --max-time 10 --cacert \(pki.authority) --resolve localhost:\(port):127.0.0.1 "
            + "-o /dev/null -w '\(format)' https://localhost:\(port)\(path)"
    }

    /// The value of `prefork_NAME` in the server's /metrics, read over TLS.
    private func metric(_ port: Int, _ name: String) throws -> Double? {
        let text = try TestCertificates.shellSucceeding("curl -sS --http1.1 --max-time 10 --cacert \(pki.authority) "
            + "--resolve localhost:\(port):127.0.0.1 https://localhost:\(port)/metrics")
        return try PrometheusText(text).value("prefork_" + name)
    }

    /// "STATUS LENGTH SHA256" of the answer the client prints for `request` ("METHOD PATH [RANGE]").
    private func expectedAnswer(_ request: String) -> String {
        let parts = request.split(separator: " ").map(String.init)
        var body = files[String(parts[1].dropFirst())] ?? []
        var status = 200
        if parts.count > 2, let range = parts[2].firstMatch(of: /bytes=(\d+)-(\d+)/) {
            body = Array(body[Int(range.1)!...Int(range.2)!])
            status = 206
        }
        if parts[0] == "HEAD" { body = [] }
        return "\(status) \(body.count) \(Self.sha256(body))"
    }

    private static func sha256(_ bytes: [UInt8]) -> String {
        let path = NSTemporaryDirectory() + "tls-small-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        defer { unlink(path) }
        _ = FileManager.default.createFile(atPath: path, contents: Data(bytes))
        return (try? TestCertificates.shellSucceeding("sha256sum < \(path) | cut -d' ' -f1"))?
            .trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
    }

    /// The client's answer lines, one per request (the script's words: requests, with `batch` ... `end` sent in one write).
    private func runClient(_ port: Int, _ script: [String]) throws -> [String] {
        let client = pki.directory + "/pipelined.py"
        try Self.pipelinedClient.write(toFile: client, atomically: true, encoding: .utf8)
        let arguments = script.map { "'\($0)'" }.joined(separator: " ")
        let output = try TestCertificates.shellSucceeding("timeout 60 python3 \(client) \(port) \(pki.authority) \(arguments)")
        return output.split(separator: "\n").map(String.init)
    }

    /// One TLS connection: each request alone, waiting for its answer, except those between `batch`
    /// and `end`, which go in one write (one record) before their answers are read. Prints
    /// "STATUS LENGTH SHA256" per answer; a padding field makes each request about 100 bytes.
    static let pipelinedClient = #"""
import hashlib, socket, ssl, sys

port, authority, words = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
context = ssl.create_default_context(cafile=authority)
connection = context.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=20), server_hostname="localhost")
received = b""

def request(word):
    method, path, *rest = word.split(" ")
    fields = f"Host: localhost\r\nX-Padding: {'p' * 40}\r\n" + (f"Range: {rest[0]}\r\n" if rest else "")
    return f"{method} {path} HTTP/1.1\r\n{fields}\r\n".encode()

def more():
    global received
    data = connection.recv(65536)
    if not data:
        raise SystemExit("the connection ended early")
    received += data

def answer(word):
    global received
    while b"\r\n\r\n" not in received:
        more()
    head, _, received = received.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    length = 0 if word.startswith("HEAD") else next(
        int(line.split(b":")[1]) for line in lines if line.lower().startswith(b"content-length:"))
    while len(received) < length:
        more()
    body, received = received[:length], received[length:]
    print(int(lines[0].split(b" ")[1]), len(body), hashlib.sha256(body).hexdigest())

batch = None
for word in words:
    if word == "batch":
        batch = []
    elif word == "end":
        connection.sendall(b"".join(request(each) for each in batch))
        for each in batch:
            answer(each)
        batch = None
    elif batch is not None:
        batch.append(word)
    else:
        connection.sendall(request(word))
        answer(word)
connection.close()
"""#
}

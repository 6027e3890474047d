// TLSUnsentRecordsTests: a TLS download whose client stops reading leaves few
// encrypted records waiting in the server's socket (TCP_NOTSENT_LOWAT, set on
// the TLS listener and inherited by what it accepts: --tls-notsent-lowat,
// 16 KiB by default): about one record's limit and one write, where without
// the limit (--tls-notsent-lowat 0) the socket takes records until its send
// buffer is full. Seen from outside with ss(8), which reports a socket's
// unsent bytes ("notsent"); the body still arrives whole once read.
import Foundation
import Glibc
import TestSupport
import XCTest

final class TLSUnsentRecordsTests: XCTestCase {
    private var pki: TestCertificates!
    private var pair: TestCertificates.Pair!
    private var root = ""
    private var expected = ""
    /// A file body is written four records (64 KiB) at a time: what one write adds past the limit.
    private static let oneWrite = 64 << 10

    override func setUpWithError() throws {
        try TestCertificates.requireTools()
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: "/usr/bin/python3"), "python3 is missing: apt-get install python3")
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: "/usr/bin/ss")
                          || FileManager.default.isExecutableFile(atPath: "/bin/ss"), "ss is missing: apt-get install iproute2")
        pki = try TestCertificates()
        pair = try pki.leaf("unsent")
        root = pki.directory + "/root"
        try TestCertificates.shellSucceeding("mkdir -p \(root) && head -c \(16 << 20) /dev/urandom > \(root)/big.bin")
        expected = try TestCertificates.shellSucceeding("sha256sum < \(root)/big.bin | cut -d' ' -f1")
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func testAClientThatStopsReadingLeavesAboutOneWriteOfRecordsUnsent() throws {
        let server = try start([])
        let unsent = try unsentBytesWhileTheClientWaits(server)
        XCTAssertLessThanOrEqual(unsent, 16_384 + Self.oneWrite + 4096,
                                 "the limit and one write at most wait in the kernel (\(unsent) bytes)")
        XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
    }

    func testWithoutTheLimitTheSocketTakesRecordsUntilItsBufferIsFull() throws {
        let server = try start(["--tls-notsent-lowat", "0"])
        let unsent = try unsentBytesWhileTheClientWaits(server)
        XCTAssertGreaterThan(unsent, 4 * Self.oneWrite, "the kernel's default: no limit but the send buffer (\(unsent) bytes)")
        XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
    }

    func testABadLimitIsOneLineAndNoStart() throws {
        let result = try Launch.runToEnd(ServerProcess.executablePath, ["--listen", "127.0.0.1:0,tls", "--tls-notsent-lowat=-1"]
                                         + pair.flags)
        XCTAssertNotEqual(result.status.flatMap(exitCode(ofWaitStatus:)), 0)
        XCTAssertEqual(result.stderr.split(separator: "\n").count, 1, result.stderr)
        XCTAssertTrue(result.stderr.contains("--tls-notsent-lowat must be between 0 and 2147483647 bytes (got -1)"), result.stderr)
    }

    /// A socket handed over by systemd or an old master may carry a limit set before: the server
    /// sets its own on it, 0 (the kernel's default) included. Read on the test's own descriptor
    /// of the same socket.
    func testAnInheritedTLSListenerTakesTheConfiguredLimitEvenZero() throws {
        for (flags, expected) in [([String](), 16_384), (["--tls-notsent-lowat", "0"], 0)] {
            let (fd, port) = try LifecycleTests.listeningSocket()
            defer { close(fd) }
            var oldLimit: Int32 = 4096
            XCTAssertEqual(setsockopt(fd, Int32(IPPROTO_TCP), TCP_NOTSENT_LOWAT, &oldLimit, socklen_t(MemoryLayout<Int32>.size)), 0)
            let server = try ServerProcess(["--listen", "127.0.0.1:\(port),tls", "--workers", "1", "--root", root] + flags
                                           + pair.flags, activatedSockets: [fd])
            XCTAssertTrue(server.startupLine.contains("socket activation"), server.startupLine)
            var limit: Int32 = -1
            var length = socklen_t(MemoryLayout<Int32>.size)
            XCTAssertEqual(getsockopt(fd, Int32(IPPROTO_TCP), TCP_NOTSENT_LOWAT, &limit, &length), 0)
            XCTAssertEqual(Int(limit), expected, "flags \(flags)")
            XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
        }
    }

    // MARK: - Helpers

    private func start(_ flags: [String]) throws -> ServerProcess {
        try ServerProcess(["--listen", "127.0.0.1:0,tls", "--workers", "1", "--root", root] + flags + pair.flags)
    }

    /// Asks for the 16 MiB file over TLS without reading the answer; once the server's socket
    /// stops filling (the same unsent count three times, 100 ms apart, within 10 s), returns that
    /// count, then reads the body and checks it arrived whole.
    private func unsentBytesWhileTheClientWaits(_ server: ServerProcess) throws -> Int {
        let script = pki.directory + "/stalled.py"
        try Self.stalledClient.write(toFile: script, atomically: true, encoding: .utf8)
        let client = try Launch.run("/usr/bin/python3", [script, String(server.port), pki.authority])
        defer {
            kill(client.pid, SIGKILL)
            _ = Launch.waitForExit(client.pid, timeoutMilliseconds: 5_000)
            close(client.stdout)
            close(client.stderr)
        }
        XCTAssertEqual(Launch.readLine(from: client.stdout, timeoutMilliseconds: 20_000), "asked", "the client sent its request")
        var counts: [Int] = []
        let deadline = Launch.now() + 10_000
        while Launch.now() < deadline {
            counts.append(try unsentBytes(port: server.port))
            if counts.count >= 3 && Set(counts.suffix(3)).count == 1 && counts.last! > 0 { break }
            usleep(100_000)
        }
        let settled = try XCTUnwrap(counts.last, "ss reported the server's socket")
        XCTAssertEqual(Set(counts.suffix(3)).count, 1, "the socket stopped filling: \(counts)")
        // The client reads now; the body arrives whole.
        XCTAssertEqual(kill(client.pid, SIGUSR1), 0)
        XCTAssertEqual(Launch.readLine(from: client.stdout, timeoutMilliseconds: 30_000), "\(16 << 20) \(expected)",
                       "the whole body: \(Launch.readAvailable(from: client.stderr))")
        return settled
    }

    /// The unsent bytes of the server's end of the one established connection on `port` (ss -i: "notsent:N", absent when 0).
    private func unsentBytes(port: Int) throws -> Int {
        let output = try TestCertificates.shellSucceeding("ss -tniH state established '( sport = :\(port) )'")
        guard output.contains("127.0.0.1:\(port)") else { throw LaunchError("no connection on port \(port): \(output)") }
        return Int(output.firstMatch(of: /notsent:(\d+)/)?.1 ?? "0") ?? 0
    }

    /// Connects, asks for /big.bin and says "asked"; reads nothing until SIGUSR1, then reads the
    /// whole answer and prints the body's length and SHA-256.
    static let stalledClient = #"""
import hashlib, signal, socket, ssl, sys

port, authority = int(sys.argv[1]), sys.argv[2]
# Blocked first, so a SIGUSR1 sent before sigwait waits for it instead of ending the client.
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})
context = ssl.create_default_context(cafile=authority)
connection = context.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=30), server_hostname="localhost")
connection.sendall(b"GET /big.bin HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
print("asked", flush=True)
signal.sigwait({signal.SIGUSR1})
received = bytearray()
while True:
    data = connection.recv(1 << 20)
    if not data:
        break
    received += data
head, _, body = bytes(received).partition(b"\r\n\r\n")
print(len(body), hashlib.sha256(body).hexdigest(), flush=True)
"""#
}

// TLSHandshakeWritesTests: what a new HTTPS connection costs the worker in
// writes, seen with strace. What a handshake read makes OpenSSL send is
// collected and leaves in one write(2); a TLS 1.3 connection's two session
// tickets wait for its first answer and share its write; a connection that
// closes after its answer sends it and the close_notify alert with MSG_MORE,
// so the FIN shares their packet; and the handshake's read of the client's
// second flight, which only met EAGAIN, is not made. A flight longer than the
// staging buffer (a long certificate chain) still completes in both trigger
// modes.
import Foundation
import Glibc
import TestSupport
import XCTest

final class TLSHandshakeWritesTests: XCTestCase {
    /// The worker's writes and reads on one connection a client made, in order, and whether strace saw it closed.
    struct ConnectionCalls {
        var writes: [String] = []
        var reads: [String] = []
        var closed = false
    }

    func testANewConnectionSendsItsFlightThenTicketsWithTheAnswerThenTheAlertWithTheFIN() throws {
        for connection in try tracedConnections(version: "1.3") {
            // The server's flight; the two tickets and the answer (MSG_MORE: the alert follows);
            // the close_notify alert (MSG_MORE: the FIN follows). Without the staging: five writes.
            XCTAssertEqual(connection.writes.count, 3, "flight, tickets with the answer, alert: \(connection.writes)")
            XCTAssertTrue(connection.writes.dropFirst().allSatisfy { $0.contains("MSG_MORE") }, "\(connection.writes)")
            XCTAssertEqual(connection.reads.filter { $0.contains("EAGAIN") }, [], "no read that meets EAGAIN")
        }
    }

    func testTLS12SendsTheServersFinishedFlightAtOnceInOneWrite() throws {
        // A TLS 1.2 client waits for the server's Finished before its request: it cannot wait for the answer.
        for connection in try tracedConnections(version: "1.2") {
            // Hello..ServerHelloDone; ticket, ChangeCipherSpec and Finished; the answer; the alert.
            XCTAssertEqual(connection.writes.count, 4, "\(connection.writes)")
            XCTAssertEqual(connection.reads.filter { $0.contains("EAGAIN") }, [], "no read that meets EAGAIN")
        }
    }

    func testAFlightLongerThanTheStagingBufferCompletesInEitherTriggerMode() throws {
        let (pki, pair) = try makePair("longchain")
        // The leaf and 120 more copies of the root: about 50 KB of certificates (the staging buffer holds 32 KiB).
        let chain = pki.directory + "/longchain-long.pem"
        try TestCertificates.shellSucceeding(
            "cd \(pki.directory) && cp \(pair.certificate) \(chain) && for i in $(seq 120); do cat ca.pem >> \(chain); done")
        let flags = ["--tls-certificate", chain, "--tls-key", pair.key]
        for mode in [[], ["--edge-triggered"]] {
            let server = try ServerProcess(["--listen", "127.0.0.1:0,tls", "--workers", "1"] + flags + mode)
            let answer = try TestCertificates.shellSucceeding(
                "curl -sS --http1.1 --max-time 10 --cacert \(pki.authority) --resolve localhost:\(server.port):127.0.0.1 "
                    + "-w '%{http_code} %{num_connects}\\n' -o /dev/null https://localhost:\(server.port)/ -o /dev/null https://localhost:\(server.port)/")
            // The second GET goes over the first's connection: the handshake completed and the session went on.
            XCTAssertEqual(answer, "200 1\n200 0\n", "\(mode)")
            XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
        }
    }

    // MARK: - Helpers

    private func makePair(_ name: String) throws -> (TestCertificates, TestCertificates.Pair) {
        try TestCertificates.requireTools()
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: "/usr/bin/python3"), "python3 is missing: apt-get install python3")
        let pki = try TestCertificates()
        return (pki, try pki.leaf(name))
    }

    /// The worker's calls on each of six connections the client made with TLS `version`, those
    /// strace saw through to their close (it may miss the last lines; all but two are enough).
    private func tracedConnections(version: String) throws -> [ConnectionCalls] {
        let (pki, pair) = try makePair("writes")
        let server = try ServerProcess(["--listen", "127.0.0.1:0,tls", "--workers", "1"] + pair.flags)
        let worker = try XCTUnwrap(server.onlyWorkerPID(), "the worker started")
        let trace = try Strace.required(pid: worker, calls: "accept4,read,write,sendto,writev,close")
        let connections = 6
        let client = pki.directory + "/finished-with-request.py"
        try Self.finishedWithRequestClient.write(toFile: client, atomically: true, encoding: .utf8)
        let output = try TestCertificates.shellSucceeding("python3 \(client) \(server.port) \(pki.authority) \(version) \(connections)")
        XCTAssertEqual(output.trimmingCharacters(in: .whitespacesAndNewlines), "\(connections) answers")
        let calls = Self.callsPerConnection(trace.finish())
        XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
        let complete = calls.filter(\.closed)
        XCTAssertGreaterThanOrEqual(complete.count, connections - 2, "\(calls)")
        return complete
    }

    /// Groups strace lines by connection: from accept4's descriptor to its close(2).
    static func callsPerConnection(_ lines: [String]) -> [ConnectionCalls] {
        var finished: [ConnectionCalls] = []
        var open: [String: ConnectionCalls] = [:]
        for line in lines {
            if let match = line.firstMatch(of: /accept4\(.*\) = (\d+)$/) {
                open[String(match.1)] = ConnectionCalls()
            } else if let match = line.firstMatch(of: /\b(write|sendto|writev)\((\d+),/), open[String(match.2)] != nil {
                open[String(match.2)]!.writes.append(line)
            } else if let match = line.firstMatch(of: /\bread\((\d+),/), open[String(match.1)] != nil {
                open[String(match.1)]!.reads.append(line)
            } else if let match = line.firstMatch(of: /\bclose\((\d+)/), var calls = open.removeValue(forKey: String(match.1)) {
                calls.closed = true
                finished.append(calls)
            }
        }
        return finished + open.values
    }

    /// A client whose TLS 1.3 Finished and request leave in one segment, so the server reads
    /// them in one read (with clients that send them apart, the tickets leave in one write of
    /// their own when the Finished comes alone); under TLS 1.2 the request follows the
    /// handshake. The request asks the server to close after its answer.
    static let finishedWithRequestClient = TestCertificates.memoryBIOHandshake + #"""
port, authority, version, connections = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
context = ssl.create_default_context(cafile=authority)
context.minimum_version = context.maximum_version = (
    ssl.TLSVersion.TLSv1_3 if version == "1.3" else ssl.TLSVersion.TLSv1_2)
answers = 0
for _ in range(connections):
    connection, session, incoming, outgoing = handshake(context, port)
    session.write(b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
    connection.sendall(outgoing.read())
    answer, ended = b"", False
    while not ended:
        data = connection.recv(65536)
        if not data:
            break
        incoming.write(data)
        while True:
            try:
                chunk = session.read(65536)
            except ssl.SSLWantReadError:
                break
            except ssl.SSLZeroReturnError:
                chunk = b""
            if not chunk:
                ended = True
                break
            answer += chunk
    if answer.startswith(b"HTTP/1.1 200"):
        answers += 1
    connection.close()
print(f"{answers} answers")
"""#
}

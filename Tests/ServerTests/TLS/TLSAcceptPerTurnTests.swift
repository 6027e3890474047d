// TLSAcceptPerTurnTests: a TLS listener gives each loop turn one new connection,
// in either trigger mode, and an edge-triggered worker comes back for the rest of
// its queue without a new event. A TLS connection's first read is its handshake's
// key exchange: an edge-triggered worker that drained a queue of them made the
// requests it had already read wait behind every one. Seen with strace: while
// the worker is stopped, a client queues eight connections whose ClientHellos
// have arrived, then lets it go on; between two epoll_waits there is at most one
// accept, and every connection is answered.
import Foundation
import Glibc
import TestSupport
import XCTest

final class TLSAcceptPerTurnTests: XCTestCase {
    func testALevelTriggeredTLSListenerGivesEachTurnOneConnection() throws {
        try checkOneAcceptPerTurn(mode: [])
    }

    func testAnEdgeTriggeredTLSListenerGivesEachTurnOneConnectionAndIsServedUntilItsQueueIsEmpty() throws {
        try checkOneAcceptPerTurn(mode: ["--edge-triggered"])
    }

    // MARK: - Helpers

    private static let queued = 8

    private func checkOneAcceptPerTurn(mode: [String]) throws {
        try TestCertificates.requireTools()
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: "/usr/bin/python3"), "python3 is missing: apt-get install python3")
        let pki = try TestCertificates()
        let pair = try pki.leaf("turns")
        let server = try ServerProcess(["--listen", "127.0.0.1:0,tls", "--workers", "1"] + pair.flags + mode)
        let worker = try XCTUnwrap(server.onlyWorkerPID(), "the worker started")
        let trace = try Strace.required(pid: worker, calls: "accept4,epoll_wait")
        let client = pki.directory + "/queue-then-continue.py"
        try Self.queueThenContinueClient.write(toFile: client, atomically: true, encoding: .utf8)
        // The client stops the worker, queues its connections, and lets the worker go on.
        let output = try TestCertificates.shellSucceeding(
            "timeout 60 python3 \(client) \(server.port) \(pki.authority) \(worker) \(Self.queued)")
        XCTAssertEqual(output.trimmingCharacters(in: .whitespacesAndNewlines), "\(Self.queued) answers", "\(mode)")
        let calls = trace.finish()
        XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
        let runs = Self.acceptsBetweenWaits(calls)
        XCTAssertEqual(runs.reduce(0, +), Self.queued, "every queued connection accepted once: \(calls)")
        XCTAssertEqual(runs.max(), 1, "at most one accept between two epoll_waits (\(mode)): \(runs)")
    }

    /// The number of successful accept4 calls between consecutive epoll_wait calls (runs with none left out).
    static func acceptsBetweenWaits(_ lines: [String]) -> [Int] {
        var runs: [Int] = []
        var current = 0
        for line in lines {
            if line.contains("epoll_wait(") {
                if current > 0 { runs.append(current) }
                current = 0
            } else if line.firstMatch(of: /accept4\(.*\) = \d+$/) != nil {
                current += 1
            }
        }
        if current > 0 { runs.append(current) }
        return runs
    }

    /// Stops the worker, opens `count` connections and sends each one's ClientHello, waits
    /// until the listener's accept queue holds them all (/proc/net/tcp's rx_queue of a
    /// listening socket; with TCP_DEFER_ACCEPT a connection joins it with its first bytes),
    /// lets the worker go on, then finishes each handshake and asks for `/`.
    static let queueThenContinueClient = #"""
import os
import signal
import socket
import ssl
import sys
import time

port, authority, worker, count = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
context = ssl.create_default_context(cafile=authority)


def accept_queue():
    for line in open("/proc/net/tcp"):
        fields = line.split()
        if fields[1].endswith(":%04X" % port) and fields[3] == "0A":
            return int(fields[4].split(":")[1], 16)
    return -1


os.kill(worker, signal.SIGSTOP)
try:
    clients = []
    for _ in range(count):
        raw = socket.create_connection(("127.0.0.1", port), timeout=30)
        raw.setblocking(False)
        client = context.wrap_socket(raw, server_hostname="localhost", do_handshake_on_connect=False)
        try:
            client.do_handshake()
        except ssl.SSLWantReadError:
            pass  # the ClientHello is sent; the answer waits for the worker
        clients.append(client)
    deadline = time.monotonic() + 20
    while accept_queue() < count and time.monotonic() < deadline:
        time.sleep(0.01)
    if accept_queue() < count:
        sys.exit(f"the accept queue holds {accept_queue()} of {count} connections")
finally:
    os.kill(worker, signal.SIGCONT)


def answer_to(client):
    client.settimeout(30)
    client.do_handshake()
    client.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
    chunks = []
    while chunk := client.recv(65536):
        chunks.append(chunk)
    client.close()
    return b"".join(chunks)


print(f"{sum(answer_to(client).startswith(b'HTTP/1.1 200') for client in clients)} answers")
"""#
}

// TLSReloadUnderLoadTests: HUP twice (renewed certificates, then a file that no
// longer loads) while clients keep HTTPS requests flowing, on kept-alive and on
// fresh connections: every request is answered 200. A retiring worker answers
// what it has begun and closes idle keep-alive connections (with close_notify);
// a client that sent on such a connection as it closed retries on a new one, as
// RFC 9112 §9.3.1 allows for an idempotent request, and that retry must succeed.
import Foundation
import Glibc
import TestSupport
import XCTest

final class TLSReloadUnderLoadTests: XCTestCase {
    func testHUPUnderSteadyHTTPSLoadFailsNoRequest() throws {
        try XCTSkipUnless((try? TestCertificates.shell("command -v python3").status) == 0, "python3 is missing: apt-get install python3")
        let pki = try TestCertificates()
        let one = try pki.leaf("one")
        let two = try pki.leaf("two")
        let live = TestCertificates.Pair(certificate: pki.directory + "/live.pem", key: pki.directory + "/live.key")
        func install(_ pair: TestCertificates.Pair) throws {
            try TestCertificates.shellSucceeding("cp \(pair.certificate) \(live.certificate) && cp \(pair.key) \(live.key)")
        }
        try install(one)
        let server = try ServerProcess(["--listen", "127.0.0.1:0,tls", "--workers", "2"] + live.flags)
        func servedSerial() -> String? {
            try? TestCertificates.shell("openssl s_client -connect 127.0.0.1:\(server.port) -noservername "
                + "-CAfile \(pki.authority) </dev/null 2>/dev/null | openssl x509 -noout -serial").stdout
        }
        let twoSerial = try TestCertificates.shellSucceeding("openssl x509 -noout -serial -in \(two.certificate)")

        let directory = pki.directory
        try Self.loadScript.write(toFile: directory + "/load.py", atomically: true, encoding: .utf8)
        try TestCertificates.shellSucceeding("python3 \(directory)/load.py \(server.port) \(pki.authority) \(directory) "
            + ">\(directory)/load.out 2>&1 </dev/null &")
        defer { _ = FileManager.default.createFile(atPath: directory + "/stop", contents: nil) }
        func answered() -> Int { Int((try? String(contentsOfFile: directory + "/progress", encoding: .utf8)) ?? "") ?? 0 }
        func loadProgresses(by count: Int) -> Bool {
            let start = answered()
            return ServerProcess.eventually(timeoutMilliseconds: 20_000) { answered() >= start + count }
        }
        XCTAssertTrue(loadProgresses(by: 100), "the load is under way")

        try install(two)
        kill(server.pid, SIGHUP)
        XCTAssertTrue(ServerProcess.eventually(timeoutMilliseconds: 20_000) { servedSerial() == twoSerial },
                      "a fresh client sees the renewed certificate")
        XCTAssertTrue(loadProgresses(by: 100), "the load goes on after the first reload")

        try TestCertificates.shellSucceeding("echo 'not a certificate' > \(live.certificate)")
        kill(server.pid, SIGHUP)
        var log = ""
        XCTAssertTrue(ServerProcess.eventually(timeoutMilliseconds: 20_000) {
            log += server.standardError()
            return log.contains("TLS certificates not reloaded")
        })
        XCTAssertTrue(ServerProcess.eventually(timeoutMilliseconds: 20_000) { server.workerPIDs().count == 2 })
        XCTAssertTrue(loadProgresses(by: 100), "the load goes on after the failed reload")
        XCTAssertEqual(servedSerial(), twoSerial, "the renewed certificate still serves")

        _ = FileManager.default.createFile(atPath: directory + "/stop", contents: nil)
        var result: [String: Any] = [:]
        XCTAssertTrue(ServerProcess.eventually(timeoutMilliseconds: 30_000) {
            guard let data = FileManager.default.contents(atPath: directory + "/result"),
                  let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return false }
            result = object
            return true
        }, "the load finishes: " + ((try? String(contentsOfFile: directory + "/load.out", encoding: .utf8)) ?? ""))
        let failures = result["failures"] as? [String] ?? ["no result"]
        let ok = result["ok"] as? Int ?? 0
        XCTAssertEqual(failures, [], "every request answered 200 (\(ok) were, \(result["retried"] ?? 0) after an idle close)")
        XCTAssertGreaterThan(ok, 300)
        XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
    }

    /// Three client threads (one new connection per request; two doing ten requests per
    /// connection) until the stop file appears or 90 s pass. Writes the count of 200s to
    /// `progress` as it goes and {ok, retried, failures} to `result` at the end.
    private static let loadScript = #"""
import json, os, socket, ssl, sys, threading, time
port, cafile, directory = int(sys.argv[1]), sys.argv[2], sys.argv[3]
context = ssl.create_default_context(cafile=cafile)
context.check_hostname = False
deadline = time.monotonic() + 90
lock = threading.Lock()
totals = {"ok": 0, "retried": 0, "failures": []}

def connect():
    raw = socket.create_connection(("127.0.0.1", port), timeout=10)
    return context.wrap_socket(raw, server_hostname="localhost")

def get(conn):
    """One GET; the status, or None when the server closed before any byte (an idle keep-alive close)."""
    conn.sendall(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk:
            if data: raise EOFError("closed mid-response: %r" % data)
            return None
        data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    length = [int(l.split(b":")[1]) for l in head.split(b"\r\n") if l.lower().startswith(b"content-length:")][0]
    while len(body) < length:
        chunk = conn.recv(4096)
        if not chunk: raise EOFError("closed mid-body")
        body += chunk
    return int(head.split(b" ")[1])

def record(status=None, error=None, retried=False):
    with lock:
        if retried: totals["retried"] += 1
        if status == 200: totals["ok"] += 1
        else: totals["failures"].append(error or "status %s" % status)
        if totals["ok"] % 25 == 0:
            with open(directory + "/progress.tmp", "w") as f: f.write(str(totals["ok"]))
            os.rename(directory + "/progress.tmp", directory + "/progress")

def worker(per_connection):
    while not os.path.exists(directory + "/stop") and time.monotonic() < deadline:
        try:
            conn = connect()
        except Exception as e:
            record(error="connect: %r" % e); continue
        try:
            for i in range(per_connection):
                try:
                    status = get(conn)
                except (ConnectionResetError, BrokenPipeError, ssl.SSLEOFError) as e:
                    if i == 0: raise
                    status = None  # the server closed an idle keep-alive connection as we sent
                if status is None and i > 0:
                    # RFC 9112 §9.3.1: a client retries an idempotent request on a new connection.
                    conn.close(); conn = connect(); status = get(conn); record(status, retried=True)
                else:
                    record(status, error=None if status else "closed before any response on a new connection")
        except Exception as e:
            record(error="%r" % e)
        finally:
            conn.close()

threads = [threading.Thread(target=worker, args=(n,)) for n in (1, 10, 10)]
for t in threads: t.start()
for t in threads: t.join()
with open(directory + "/result.tmp", "w") as f: json.dump(totals, f)
os.rename(directory + "/result.tmp", directory + "/result")
"""#
}

// KeyUpdateFloodTests: a TLS 1.3 client that sends KeyUpdate after KeyUpdate,
// each asking for one back (RFC 8446 §4.6.3), costs the worker a key derivation
// apiece and nothing it keeps: OpenSSL folds the answers it owes into one pending
// KeyUpdate, and a client that does not read them meets the worker's
// backpressure, not a growing buffer. The flood's connection is still served
// afterwards, and so is everyone else. The client is OpenSSL's own (the
// openssl command line sends at most one KeyUpdate per read of its input).
import CTLS
import Glibc
import TestSupport
import TLS
import XCTest

final class KeyUpdateFloodTests: XCTestCase {
    nonisolated(unsafe) private static var certificates: TestCertificates?

    override class func setUp() { certificates = try? TestCertificates() }
    override class func tearDown() { certificates = nil }

    func testAFloodOfKeyUpdatesNeitherGrowsTheWorkerNorStopsItServing() throws {
        try TestCertificates.requireTools()
        guard let pki = Self.certificates else { throw LaunchError("the test PKI could not be made") }
        let server = try ServerProcess(["--listen", "127.0.0.1:0,tls", "--workers", "1"] + pki.leaf("flood").flags)
        guard let worker = server.onlyWorkerPID() else { return XCTFail("no worker") }
        let flooder = try KeyUpdateClient(port: server.port)
        // A first request, so the connection's buffers and the worker's are as large as serving makes them.
        XCTAssertTrue(try flooder.get("/").hasPrefix("HTTP/1.1 200 "))
        guard let before = StreamingWire.memoryKilobytes("VmRSS", of: worker) else { return XCTFail("no VmRSS") }

        let sent = flooder.sendKeyUpdates(20_000)
        XCTAssertEqual(sent, 20_000, "every KeyUpdate was taken: \(flooder.lastError)")
        XCTAssertTrue(try flooder.get("/").hasPrefix("HTTP/1.1 200 "), "the flooding connection is still served")
        let others = try TestCertificates.shellSucceeding(
            "curl -sS --cacert \(pki.authority) --resolve localhost:\(server.port):127.0.0.1 -o /dev/null -w '%{http_code}' "
                + "https://localhost:\(server.port)/")
        XCTAssertEqual(others, "200", "another client is served")
        guard let peak = StreamingWire.memoryKilobytes("VmHWM", of: worker) else { return XCTFail("no VmHWM") }
        XCTAssertLessThan(peak - before, 2048, "the worker's peak resident memory grew by under 2 MiB (\(before) → \(peak) KiB)")
        XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
    }
}

/// A TLS 1.3 client over a blocking socket with timeouts (TestClient's), driven through OpenSSL.
private final class KeyUpdateClient {
    private let socket: TestClient
    private let context: OpaquePointer
    private let ssl: OpaquePointer
    private(set) var lastError = ""

    init(port: Int) throws {
        socket = try TestClient(port: port, timeoutSeconds: 10)
        guard let context = SSL_CTX_new(TLS_client_method()) else { throw LaunchError("SSL_CTX_new failed") }
        self.context = context
        // TLS 1.3 only: KeyUpdate is a TLS 1.3 message (SSL_CTX_set_min_proto_version is a macro over this call).
        SSL_CTX_ctrl(context, SSL_CTRL_SET_MIN_PROTO_VERSION, Int(TLS1_3_VERSION), nil)
        guard let ssl = SSL_new(context) else { SSL_CTX_free(context); throw LaunchError("SSL_new failed") }
        self.ssl = ssl
        SSL_set_fd(ssl, socket.fd)
        guard SSL_connect(ssl) == 1 else { throw LaunchError("SSL_connect failed: \(Self.errors())") }
    }

    deinit {
        SSL_free(ssl)
        SSL_CTX_free(context)
    }

    /// Sends `count` KeyUpdate messages that each request one back, reading nothing; returns how many went out.
    func sendKeyUpdates(_ count: Int) -> Int {
        for sent in 0..<count {
            guard SSL_key_update(ssl, SSL_KEY_UPDATE_REQUESTED) == 1, SSL_do_handshake(ssl) == 1 else {
                lastError = Self.errors()
                return sent
            }
        }
        return count
    }

    /// One GET; returns the whole response (its head, then as many bytes as its Content-Length says).
    func get(_ path: String) throws -> String {
        let request = Array("GET \(path) HTTP/1.1\r\nHost: localhost\r\n\r\n".utf8)
        guard SSL_write(ssl, request, Int32(request.count)) == Int32(request.count) else {
            throw LaunchError("SSL_write failed: \(Self.errors())")
        }
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16_384)
        while !Self.isComplete(received) {
            let count = SSL_read(ssl, &buffer, Int32(buffer.count))
            guard count > 0 else { throw LaunchError("SSL_read failed: \(Self.errors())") }
            received += buffer[0..<Int(count)]
        }
        return String(decoding: received, as: UTF8.self)
    }

    private static func isComplete(_ bytes: [UInt8]) -> Bool {
        let text = String(decoding: bytes, as: UTF8.self)
        guard let end = text.range(of: "\r\n\r\n") else { return false }
        let length = text[..<end.lowerBound].split(separator: "\r\n")
            .first { $0.lowercased().hasPrefix("content-length:") }
            .flatMap { Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) } ?? 0
        return text.utf8.count - text[..<end.upperBound].utf8.count >= length
    }

    /// OpenSSL's first queued reason (the queue is then emptied), else errno.
    private static func errors() -> String {
        OpenSSLErrors.takeReason() ?? "errno \(errno)"
    }
}

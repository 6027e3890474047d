// `--listen ADDRESS:PORT,redirect-https[=PORT]` on the real binary over plain sockets:
// every request on that listener is answered 308 to https on the same host, a host
// that is not a DNS name or IP literal gets 400 (no open redirect), and the other
// listener serves as before.
import Glibc
@testable import Server
import TestSupport
import XCTest

final class HTTPSRedirectTests: XCTestCase {
    /// A redirect listener (to 8443) beside a plain one that serves.
    private func startServer(redirect option: String = "redirect-https=8443", model: [String] = []) throws -> ServerProcess {
        try ServerProcess(["--listen", "127.0.0.1:0,\(option)", "--listen", "127.0.0.1:0", "--workers", "1"] + model)
    }

    private func ask(_ port: Int, _ request: String) throws -> TestResponse {
        let client = try TestClient(port: port)
        try client.send(request)
        return try client.readResponse(headOnly: request.hasPrefix("HEAD "))
    }

    func testARouteThatStreamsItsBodyIsRedirectedToo() throws {
        // The example server streams these routes' bodies to their handlers (their own limits):
        // on a redirect listener they must get the redirect like any request, never the handler.
        let server = try ServerProcess(["--listen", "127.0.0.1:0,redirect-https", "--listen", "127.0.0.1:0", "--workers", "1"],
                                       executable: "example-server")
        for path in ["/stream/crc", "/stream/limited", "/stream/blocking-crc"] {
            let response = try ask(server.ports[0], "POST \(path) HTTP/1.1\r\nHost: example.com\r\nContent-Length: 3\r\n\r\nabc")
            XCTAssertEqual(response.status, 308, path)
            XCTAssertEqual(response.header("Location"), "https://example.com\(path)", path)
        }
        let served = try TestClient(port: server.ports[1])
        try served.send("POST /stream/limited HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc")
        XCTAssertEqual(try served.readResponse().body, "3 bytes\n", "the plain listener streams it")
    }

    func testEveryRequestOnTheRedirectListenerIsSentToHTTPSOnTheSameHostAndTarget() throws {
        let server = try startServer()
        let port = server.ports[0]
        let cases: [(request: String, location: String)] = [
            ("GET /a/b?q=1&r=2 HTTP/1.1\r\nHost: example.com\r\n\r\n", "https://example.com:8443/a/b?q=1&r=2"),
            ("GET / HTTP/1.1\r\nHost: Example.COM:8080\r\n\r\n", "https://Example.COM:8443/"),
            ("HEAD /x HTTP/1.1\r\nHost: 192.0.2.7\r\n\r\n", "https://192.0.2.7:8443/x"),
            ("GET /v6 HTTP/1.1\r\nHost: [2001:db8::1]:80\r\n\r\n", "https://[2001:db8::1]:8443/v6"),
            ("POST /form HTTP/1.1\r\nHost: example.com\r\nContent-Length: 3\r\n\r\nabc", "https://example.com:8443/form"),
            ("GET http://example.org/abs?x HTTP/1.1\r\nHost: example.org\r\n\r\n", "https://example.org:8443/abs?x"),
            ("GET /health HTTP/1.1\r\nHost: example.com\r\n\r\n", "https://example.com:8443/health"),
        ]
        for (request, location) in cases {
            let response = try ask(port, request)
            XCTAssertEqual(response.status, 308, request)
            XCTAssertEqual(response.header("Location"), location, request)
        }
        XCTAssertEqual(try TestClient(port: server.ports[1]).get("/").status, 200, "the other listener serves")
    }

    func testCurlFollowsTheRedirectToTheTLSListenerBesideIt() throws {
        let certificates = try TestCertificates()
        let leaf = try certificates.leaf("redirect")
        let tlsPort = try NginxProcess.freePort()
        let server = try ServerProcess(["--listen", "127.0.0.1:0,redirect-https=\(tlsPort)", "--listen", "127.0.0.1:\(tlsPort),tls",
                                        "--workers", "1"] + leaf.flags)
        let result = try Launch.runToEnd("/usr/bin/curl", ["-sS", "-L", "--cacert", certificates.authority, "-o", "/dev/null",
                                                           "-w", "%{http_code} %{url_effective}",
                                                           "http://localhost:\(server.ports[0])/health?x=1"])
        XCTAssertEqual(result.stdout, "200 https://localhost:\(tlsPort)/health?x=1", result.stderr)
    }

    func testTheDefaultPortIsLeftOutOfTheLocation() throws {
        let server = try startServer(redirect: "redirect-https")
        let response = try ask(server.ports[0], "GET /p HTTP/1.1\r\nHost: example.com:80\r\n\r\n")
        XCTAssertEqual(response.header("Location"), "https://example.com/p")
    }

    func testAHostThatIsNotANameOrAddressIsRefused() throws {
        let server = try startServer()
        for host in ["evil.example/x", "evil.example@good", "-bad.example", "a..b", "ex_ample.com", "[not-v6]", "example.com:port", "%65vil"] {
            let response = try ask(server.ports[0], "GET / HTTP/1.1\r\nHost: \(host)\r\n\r\n")
            XCTAssertEqual(response.status, 400, host)
            XCTAssertNil(response.header("Location"), host)
        }
        let noHost = try ask(server.ports[0], "GET / HTTP/1.0\r\n\r\n")
        XCTAssertEqual(noHost.status, 400, "HTTP/1.0 without Host: nowhere to redirect to")
    }

    func testTheRedirectListenerKeepsTheConnectionForTheNextRequest() throws {
        let server = try startServer()
        let client = try TestClient(port: server.ports[0])
        for path in ["/one", "/two"] {
            try client.send("GET \(path) HTTP/1.1\r\nHost: example.com\r\n\r\n")
            XCTAssertEqual(try client.readResponse().header("Location"), "https://example.com:8443\(path)")
        }
    }

    func testHostValidation() {
        XCTAssertEqual(HTTPSRedirect.validHost(in: "example.com:8080"), "example.com")
        XCTAssertEqual(HTTPSRedirect.validHost(in: "[::1]"), "[::1]")
        XCTAssertEqual(HTTPSRedirect.validHost(in: "localhost:"), "localhost")
        for bad in ["", ":80", "a.-b", "a b", "[::1", "[::1]x", "ex.com:123456", String(repeating: "a", count: 64) + ".com"] {
            XCTAssertNil(HTTPSRedirect.validHost(in: bad), bad)
        }
    }

    func testRedirectListenersNeedAnEventLoopModel() {
        XCTAssertThrowsError(try ListenAddress.parse("127.0.0.1:80,redirect-https=0"))
        XCTAssertEqual(try ListenAddress.parse("127.0.0.1:80,redirect-https=8443").redirectHTTPSPort, 8443)
        var configuration = ServerConfiguration()
        configuration.listen = [try! ListenAddress.parse("127.0.0.1:80,redirect-https")]
        configuration.model = .threadPool
        XCTAssertThrowsError(try configuration.validate())
        configuration.model = .reactor
        XCTAssertNoThrow(try configuration.validate())
        configuration.listen[0].tls = true
        XCTAssertThrowsError(try configuration.validate(), "a tls listener cannot also redirect")
    }

    func testTheStartupLineNamesTheRedirect() throws {
        let server = try startServer()
        XCTAssertTrue(server.startupLine.contains(" redirect-https=8443, 127.0.0.1:"), server.startupLine)
    }
}

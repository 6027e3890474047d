// TraversalTests: a corpus of requests that try to reach a file outside the
// root, sent byte-exact to the real `server --root` (no client normalises them):
// dot segments raw and encoded, double encoding, encoded slashes and
// backslashes, NUL, overlong UTF-8, links out of the root (to a file, to a
// directory, absolute), and absolute-form targets. The secret planted beside the
// root is never served; each answer is the refusal chosen for it.
import Glibc
import TestSupport
import XCTest

final class TraversalTests: XCTestCase {
    /// (request-target, status): 400 for what cannot name a file, 403 for links out, 404 for names not there.
    private static let corpus: [(String, Int)] = [
        ("/../secret.txt", 400),
        ("/../../../../../../etc/passwd", 400),
        ("/sub/../../secret.txt", 400),
        ("/./../secret.txt", 400),
        ("//../secret.txt", 400),
        ("/%2e%2e/secret.txt", 400),
        ("/%2E%2E/secret.txt", 400),
        ("/sub/%2e%2e/%2e%2e/secret.txt", 400),
        ("/.%2e/secret.txt", 400),
        ("/%252e%252e/secret.txt", 404),
        ("/%252e%252e%252fsecret.txt", 404),
        ("/..%2fsecret.txt", 400),
        ("/%2e%2e%2fsecret.txt", 400),
        ("/sub%2f..%2f..%2fsecret.txt", 400),
        ("/..%5csecret.txt", 400),
        ("/..%5C..%5Csecret.txt", 400),
        ("/..\\secret.txt", 400),
        ("/a.txt%00.html", 400),
        ("/%00../secret.txt", 400),
        ("/%c0%ae%c0%ae/secret.txt", 400),
        ("/%c0%ae%c0%ae%c0%afsecret.txt", 400),
        ("/%e0%80%ae%e0%80%ae/secret.txt", 400),
        ("/out", 403),
        ("/outdir/secret.txt", 403),
        ("/outdir/", 403),
        ("/absolute", 403),
        ("/sub/far", 403),
        ("http://test/../secret.txt", 400),
        ("http://test/%2e%2e/secret.txt", 400),
        ("http://test/out", 403),
        ("/secret.txt", 404),
    ]

    func testNoRequestInTheCorpusReachesAFileOutsideTheRoot() throws {
        let tree = try StaticTree()
        try tree.file("a.txt", "inside\n")
        try tree.file("sub/b.txt", "b\n")
        try tree.link("out", to: "../secret.txt")
        try tree.link("outdir", to: "../outside")
        try tree.link("absolute", to: tree.secretPath)
        try tree.link("sub/far", to: "../../secret.txt")
        let server = try ServerProcess(["--host", "127.0.0.1", "--workers", "1", "--root", tree.root])
        for (target, status) in Self.corpus {
            // A new connection each: a 400 closes its connection.
            let client = try TestClient(port: server.port)
            try client.send("GET \(target) HTTP/1.1\r\nHost: test\r\n\r\n")
            let response = try client.readResponse()
            XCTAssertFalse(response.body.contains("TOP-SECRET"), "\(target) served the secret")
            XCTAssertEqual(response.status, status, target)
        }
        // The root itself is still served, so the refusals above are not a server refusing everything.
        XCTAssertEqual(try TestClient(port: server.port).get("/a.txt").body, "inside\n")
        XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
    }

    func testLinksInsideTheRootAreServed() throws {
        let tree = try StaticTree()
        try tree.file("real/a.txt", "inside\n")
        try tree.link("alias", to: "real")
        try tree.link("real/b.txt", to: "a.txt")
        let server = try ServerProcess(["--host", "127.0.0.1", "--workers", "1", "--root", tree.root])
        let client = try TestClient(port: server.port)
        XCTAssertEqual(try client.get("/alias/a.txt").body, "inside\n")
        XCTAssertEqual(try client.get("/real/b.txt").body, "inside\n")
        XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
    }
}

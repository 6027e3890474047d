// MountedStaticFilesTests: an embedder's server (example-server with
// EXAMPLE_STATIC_ROOT) serves a directory under /static in front of its own
// routes: files there, the mount point redirected to its slash, and every other
// path (or a name not found under /static) answered by the embedder's handler.
import Foundation
import Glibc
import TestSupport
import XCTest

final class MountedStaticFilesTests: XCTestCase {
    func testFilesUnderThePrefixAndTheEmbeddersRoutesForTheRest() throws {
        let tree = try StaticTree()
        try tree.file("app.js", "let x = 1\n")
        try tree.file("docs/index.html", "<p>docs</p>\n")
        setenv("EXAMPLE_STATIC_ROOT", tree.root, 1)
        defer { unsetenv("EXAMPLE_STATIC_ROOT") }
        let server = try ServerProcess(["--host", "127.0.0.1", "--workers", "1"], executable: "example-server")
        let client = try TestClient(port: server.port)
        let script = try client.get("/static/app.js")
        XCTAssertEqual(script.body, "let x = 1\n")
        XCTAssertEqual(script.header("Content-Type"), "text/javascript; charset=utf-8")
        XCTAssertEqual(try client.get("/static/docs/").body, "<p>docs</p>\n")
        XCTAssertEqual(try client.get("/static/docs?a=1").header("Location"), "/static/docs/?a=1")
        XCTAssertEqual(try client.get("/static").header("Location"), "/static/")
        XCTAssertEqual(try client.get("/static/../app.js").status, 400)
        // Not under the mount, or not found there: the embedder's routes answer.
        XCTAssertTrue(try client.get("/").body.hasPrefix("pid "), "BuiltinRoutes behind the example's routes")
        XCTAssertEqual(try client.get("/example/stream/produced").status, 200)
        XCTAssertEqual(try client.get("/staticfile").status, 404)
        XCTAssertEqual(try client.get("/static/missing.js").body, "not found\n")
        XCTAssertEqual(try client.get("/app.js").status, 404, "the files are only under /static")
        XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
    }
}

// The example embedder, started like `server`: the same flags, and the built-in
// routes behind its own.
import TestSupport
import XCTest

final class ExampleServerTests: XCTestCase {
    func testTheExampleServesTheBuiltInRoutesBehindItsOwn() throws {
        let server = try ServerProcess(["--host", "127.0.0.1", "--workers", "1"], executable: "example-server")
        let client = try TestClient(port: server.port)
        XCTAssertEqual(try client.get("/health").status, 200)
        XCTAssertTrue(try client.get("/").body.hasPrefix("pid "))
        XCTAssertEqual(try client.get("/nowhere").status, 404)
        XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
    }
}

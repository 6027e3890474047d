// StaticFileServingTests: what `server --root` answers, over sockets and with
// curl: content types, dot files, directories (index, 301 keeping the query,
// 403, an escaped listing), 405 with Allow, HEAD, /health and /metrics in front,
// and a download compared byte for byte.
import Foundation
import Glibc
import TestSupport
import XCTest

final class StaticFileServingTests: XCTestCase {
    private var tree: StaticTree!

    override func setUpWithError() throws {
        tree = try StaticTree()
    }

    override func tearDown() { tree = nil }

    private func start(_ flags: [String] = []) throws -> ServerProcess {
        try ServerProcess(["--host", "127.0.0.1", "--workers", "1", "--root", tree.root] + flags)
    }

    func testFilesCarryTheirContentTypes() throws {
        let expected: [(String, String)] = [
            ("index.html", "text/html; charset=utf-8"), ("site.css", "text/css; charset=utf-8"),
            ("app.js", "text/javascript; charset=utf-8"), ("mod.mjs", "text/javascript; charset=utf-8"),
            ("data.json", "application/json; charset=utf-8"), ("logo.svg", "image/svg+xml; charset=utf-8"),
            ("a.png", "image/png"), ("b.JPG", "image/jpeg"), ("c.webp", "image/webp"), ("d.avif", "image/avif"),
            ("f.woff2", "font/woff2"), ("g.wasm", "application/wasm"), ("h.txt", "text/plain; charset=utf-8"),
            ("i.pdf", "application/pdf"), ("j.mp4", "video/mp4"), ("app.js.map", "application/json; charset=utf-8"),
            ("noextension", "application/octet-stream"), ("k.unknown-type", "application/octet-stream"),
        ]
        for (name, _) in expected { try tree.file(name, "x") }
        // From /etc/mime.types, where the system has it: a type the built-in table does not know.
        let systemTypes = (try? String(contentsOfFile: "/etc/mime.types", encoding: .utf8)) ?? ""
        let debian = systemTypes.contains("application/vnd.debian.binary-package")
        if debian { try tree.file("p.deb", "x") }
        let server = try start()
        let client = try TestClient(port: server.port)
        for (name, type) in expected {
            XCTAssertEqual(try client.get("/" + name).header("Content-Type"), type, name)
        }
        if debian {
            XCTAssertEqual(try client.get("/p.deb").header("Content-Type"), "application/vnd.debian.binary-package")
        } else {
            print("/etc/mime.types has no .deb type: the system table's check is skipped")
        }
        XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
    }

    func testDotFilesAreNotFoundUnlessServedOnPurpose() throws {
        try tree.file(".env", "SECRET=1\n")
        try tree.file(".git/config", "[core]\n")
        try tree.file("a/.hidden/x.txt", "x\n")
        for (flags, status) in [([String](), 404), (["--serve-dot-files"], 200)] {
            let server = try start(flags)
            let client = try TestClient(port: server.port)
            for path in ["/.env", "/.git/config", "/a/.hidden/x.txt", "/%2eenv"] {
                XCTAssertEqual(try client.get(path).status, status, "\(path) \(flags)")
            }
            XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
        }
    }

    func testDirectoriesAnswerWithTheirIndexOrARedirectAddingTheSlash() throws {
        try tree.file("docs/index.html", "<h1>docs</h1>\n")
        try tree.file("index.html", "<h1>home</h1>\n")
        try tree.directory("empty")
        try tree.directory("with space")
        let server = try start()
        let client = try TestClient(port: server.port)
        XCTAssertEqual(try client.get("/").body, "<h1>home</h1>\n")
        let index = try client.get("/docs/")
        XCTAssertEqual(index.body, "<h1>docs</h1>\n")
        XCTAssertEqual(index.header("Content-Type"), "text/html; charset=utf-8")
        let redirect = try client.get("/docs")
        XCTAssertEqual(redirect.status, 301)
        XCTAssertEqual(redirect.header("Location"), "/docs/")
        XCTAssertEqual(try client.get("/docs?page=2&x=y").header("Location"), "/docs/?page=2&x=y")
        XCTAssertEqual(try client.get("/with%20space").header("Location"), "/with%20space/")
        XCTAssertEqual(try client.get("/empty/").status, 403, "no index and no listing, as nginx")
        XCTAssertEqual(try client.get("/index.html/").status, 404, "a file is not a directory")
        XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
    }

    func testAutoindexListsADirectoryWithNamesEscaped() throws {
        try tree.file("list/plain.txt", "x")
        try tree.file("list/<b>&\"quote'.txt", "x")
        try tree.file("list/a b%.txt", "x")
        try tree.file("list/sub/inner.txt", "x")
        try tree.file("list/.hidden", "x")
        let server = try start(["--autoindex"])
        let client = try TestClient(port: server.port)
        let page = try client.get("/list/")
        XCTAssertEqual(page.status, 200)
        XCTAssertEqual(page.header("Content-Type"), "text/html; charset=utf-8")
        XCTAssertTrue(page.body.contains("<a href=\"plain.txt\">plain.txt</a>"), page.body)
        XCTAssertTrue(page.body.contains("<a href=\"sub/\">sub/</a>"), page.body)
        XCTAssertTrue(page.body.contains("<a href=\"a%20b%25.txt\">a b%.txt</a>"), page.body)
        XCTAssertTrue(page.body.contains("<a href=\"%3Cb%3E%26%22quote%27.txt\">&lt;b&gt;&amp;&quot;quote&#39;.txt</a>"), page.body)
        XCTAssertFalse(page.body.contains("<b>"), "no name becomes markup")
        XCTAssertFalse(page.body.contains(".hidden"), "dot files are not listed")
        // The escaped link leads back to the file.
        XCTAssertEqual(try client.get("/list/%3Cb%3E%26%22quote%27.txt").status, 200)
        XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
    }

    func testOtherMethodsOnAFileGet405WithAllow() throws {
        try tree.file("a.txt", "a\n")
        let server = try start()
        let client = try TestClient(port: server.port)
        for method in ["POST", "PUT", "DELETE", "PATCH"] {
            try client.send("\(method) /a.txt HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n")
            let response = try client.readResponse()
            XCTAssertEqual(response.status, 405, method)
            XCTAssertEqual(response.header("Allow"), "GET, HEAD", method)
        }
        try client.send("POST /missing HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n")
        XCTAssertEqual(try client.readResponse().status, 404, "a name that is not there is not found, whatever the method")
        XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
    }

    func testHealthAndMetricsAreAnsweredInFrontOfTheFiles() throws {
        try tree.file("health", "a file named health\n")
        try tree.file("metrics", "a file named metrics\n")
        let server = try start()
        let client = try TestClient(port: server.port)
        XCTAssertEqual(try client.get("/health").body, "ok\n")
        XCTAssertTrue(try client.get("/metrics").body.contains("requests_total"))
        XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
    }

    func testCurlDownloadsAFileByteForByteAndHeadSendsTheSameHead() throws {
        guard let curl = ["/usr/bin/curl", "/bin/curl"].first(where: { (path: String) in access(path, X_OK) == 0 }) else {
            throw XCTSkip("curl is not installed (apt-get install curl)")
        }
        let block = (0..<65_536).map { _ in UInt8.random(in: 0...255) }
        let bytes = (0..<48).flatMap { index in [UInt8(index)] + block.dropFirst() } + block.prefix(17)
        try Data(bytes).write(to: URL(fileURLWithPath: tree.root + "/blob.bin"))
        let server = try start()
        let output = tree.base + "/downloaded"
        let url = "http://127.0.0.1:\(server.port)/blob.bin"
        let download = try Launch.runToEnd(curl, ["-sS", "-o", output, url])
        XCTAssertEqual(download.status.flatMap(exitCode(ofWaitStatus:)), 0, download.stderr)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: output)), Data(bytes), "the same bytes")
        let head = try Launch.runToEnd(curl, ["-sS", "-I", url])
        XCTAssertTrue(head.stdout.hasPrefix("HTTP/1.1 200 OK"), head.stdout)
        XCTAssertTrue(head.stdout.contains("Content-Length: \(bytes.count)\r\n"), head.stdout)
        XCTAssertTrue(head.stdout.contains("Content-Type: application/octet-stream\r\n"), head.stdout)
        XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
    }
}

final class StaticFileFlagTests: XCTestCase {
    /// A bad --root or cache size: one line on stderr naming it, a non-zero exit, nothing served.
    func testBadStaticFileFlagsFailWithOneLine() throws {
        let notADirectory = NSTemporaryDirectory() + "not-a-directory-\(getpid())"
        XCTAssertTrue(FileManager.default.createFile(atPath: notADirectory, contents: Data("x".utf8)))
        defer { unlink(notADirectory) }
        let cases: [([String], String)] = [
            (["--root", "/nonexistent-\(getpid())"], "--root /nonexistent-\(getpid()): No such file or directory"),
            (["--root", notADirectory], "Not a directory"),
            (["--root", ""], "--root must not be empty"),
            (["--root", "/tmp", "--open-file-cache=-1"], "--open-file-cache must be between 0 and 1000000"),
            (["--root", "/tmp", "--open-file-cache-valid", "0"], "--open-file-cache-valid"),
        ]
        for (arguments, expected) in cases {
            let result = try Launch.runToEnd(ServerProcess.executablePath, ["--port", "0"] + arguments)
            XCTAssertNotEqual(result.status.flatMap(exitCode(ofWaitStatus:)), 0, "\(arguments)")
            let lines = result.stderr.split(separator: "\n")
            XCTAssertEqual(lines.count, 1, "one line on stderr for \(arguments): \(result.stderr)")
            XCTAssertTrue(result.stderr.hasPrefix("server: "), result.stderr)
            XCTAssertTrue(result.stderr.contains(expected), "\(result.stderr) mentions \(expected)")
        }
    }
}

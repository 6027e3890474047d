// The RFC 9110 §13–§14 table (FileSemanticsTable) sent to `server --root` over
// sockets, and to nginx serving the same directory when nginx is installed:
// each row's status, the fields that status implies, and the body bytes.
import Foundation
import Glibc
import TestSupport
import XCTest

final class FileSemanticsTableTests: XCTestCase {
    private var root = ""
    private let content = String((0..<1000).map { Character(UnicodeScalar(UInt8(97 + $0 % 26))) })

    override func setUpWithError() throws {
        root = NSTemporaryDirectory() + "file-semantics-\(getpid())-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        for (name, text) in [("a.txt", content), ("empty.txt", "")] {
            try text.write(toFile: root + "/" + name, atomically: false, encoding: .utf8)
            var times = [timeval(tv_sec: FileSemanticsTable.lastModified, tv_usec: 0),
                         timeval(tv_sec: FileSemanticsTable.lastModified, tv_usec: 0)]
            XCTAssertEqual(utimes(root + "/" + name, &times), 0)
        }
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: root)
    }

    func testTheServerAnswersEveryRowOfTheTable() throws {
        XCTAssertGreaterThanOrEqual(FileSemanticsTable.rows.count, 60)
        let server = try ServerProcess(["--host", "127.0.0.1", "--workers", "1", "--root", root])
        for row in FileSemanticsTable.rows {
            let problems = try check(row, expecting: row.status, port: server.port)
            XCTAssertTrue(problems.isEmpty, "\(row.name): \(problems.joined(separator: "; "))")
        }
        XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
    }

    func testNginxAnswersTheTableAlikeExceptWhereExplained() throws {
        guard NginxProcess.executable != nil else { throw XCTSkip("nginx is not installed (Debian package nginx)") }
        let nginx = try NginxProcess(root: root)
        for row in FileSemanticsTable.rows {
            if let difference = row.nginx {
                let response = try send(row, port: nginx.port, validators: try validators(of: row.path, port: nginx.port))
                XCTAssertEqual(response.status, difference.status, "\(row.name): the difference noted (\(difference.why)) no longer holds")
            } else {
                let problems = try check(row, expecting: row.status, port: nginx.port)
                XCTAssertTrue(problems.isEmpty, "nginx, \(row.name): \(problems.joined(separator: "; "))")
            }
        }
    }

    // MARK: - One row

    private struct Validators {
        let entityTag: String
        let lastModified: String
    }

    private func validators(of path: String, port: Int) throws -> Validators {
        let client = try TestClient(port: port)
        try client.send("HEAD \(path) HTTP/1.1\r\nHost: test\r\n\r\n")
        let response = try client.readResponse(headOnly: true)
        return Validators(entityTag: response.header("ETag") ?? "", lastModified: response.header("Last-Modified") ?? "")
    }

    private func send(_ row: FileSemanticsCase, port: Int, validators: Validators) throws -> TestResponse {
        let fields = row.fields.map {
            $0.replacingOccurrences(of: "{etag}", with: validators.entityTag)
                .replacingOccurrences(of: "{weak}", with: "W/" + validators.entityTag)
                .replacingOccurrences(of: "{lm}", with: validators.lastModified)
        }
        let client = try TestClient(port: port)
        try client.send("\(row.method) \(row.path) HTTP/1.1\r\nHost: test\r\n" + fields.map { $0 + "\r\n" }.joined() + "\r\n")
        return try client.readResponse(headOnly: row.method == "HEAD")
    }

    /// What differs between the answer to `row` and what its status and body imply; empty when nothing does.
    private func check(_ row: FileSemanticsCase, expecting status: Int, port: Int) throws -> [String] {
        let validators = try validators(of: row.path, port: port)
        let response = try send(row, port: port, validators: validators)
        var problems: [String] = []
        func expect(_ name: String, _ value: String?) {
            if response.header(name) != value { problems.append("\(name) is \(response.header(name) ?? "absent"), not \(value ?? "absent")") }
        }
        guard response.status == status else { return ["status \(response.status), not \(status)"] }
        let file = row.path == "/a.txt" ? Array(content.utf8) : []
        let size = file.count
        switch status {
        case 200, 206, 304:
            expect("ETag", validators.entityTag)
            expect("Last-Modified", validators.lastModified)
            XCTAssertFalse(validators.entityTag.isEmpty || validators.lastModified.isEmpty, "\(row.name): validators")
        default:
            expect("ETag", nil)  // error pages carry no validators (nginx's neither)
        }
        expect("Accept-Ranges", status == 200 ? "bytes" : nil)
        if status == 304 {
            expect("Content-Type", nil)
            expect("Content-Length", nil)
        }
        if status == 416 { expect("Content-Range", "bytes */\(size)") }
        switch row.body {
        case .whole:
            expect("Content-Length", "\(size)")
            expect("Content-Range", nil)
            if response.body != String(decoding: file, as: UTF8.self) { problems.append("not the whole file") }
        case .part(let first, let last):
            expect("Content-Range", "bytes \(first)-\(last)/\(size)")
            expect("Content-Length", "\(last - first + 1)")
            expect("Content-Type", "text/plain; charset=utf-8")
            if response.body != String(decoding: file[first...last], as: UTF8.self) { problems.append("not bytes \(first)-\(last)") }
        case .parts(let ranges):
            problems += multipartProblems(response, ranges, file)
        case .none:
            if !response.body.isEmpty { problems.append("a body") }
        case .errorPage:
            break
        }
        return problems
    }

    private func multipartProblems(_ response: TestResponse, _ ranges: [(Int, Int)], _ file: [UInt8]) -> [String] {
        let prefix = "multipart/byteranges; boundary="
        guard let type = response.header("Content-Type"), type.hasPrefix(prefix) else {
            return ["Content-Type is \(response.header("Content-Type") ?? "absent")"]
        }
        let boundary = String(type.dropFirst(prefix.count))
        var expected = ""
        for (first, last) in ranges {
            expected += "\r\n--\(boundary)\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Range: bytes \(first)-\(last)/\(file.count)\r\n\r\n"
            expected += String(decoding: file[first...last], as: UTF8.self)
        }
        expected += "\r\n--\(boundary)--\r\n"
        var problems: [String] = []
        if response.header("Content-Length") != "\(expected.utf8.count)" { problems.append("Content-Length \(response.header("Content-Length") ?? "absent"), not \(expected.utf8.count)") }
        if response.body != expected { problems.append("multipart body differs: \(response.body.debugDescription)") }
        return problems
    }
}

// The access log on the real binary: one combined-format line per request from
// every worker, written within a second and on exit, kept across a logrotate
// rename with SIGUSR1, to stdout with `-`, and nowhere by default.
import Foundation
import Glibc
import TestSupport
import XCTest

final class AccessLogTests: XCTestCase {
    private var directory: String!

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "access-log-\(getpid())-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// `$remote_addr - - [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"`
    static let combined = try! NSRegularExpression(pattern:
        #"^127\.0\.0\.1 - - \[\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4}\] "(GET|HEAD) /\S* HTTP/1\.[01]" \d{3} \d+ "[^"]*" "[^"]*"$"#)

    static func isCombined(_ line: String) -> Bool {
        combined.firstMatch(in: line, range: NSRange(line.startIndex..., in: line)) != nil
    }

    private func lines(_ path: String) -> [String] {
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").map(String.init)
    }

    /// Sends `count` requests over `count / 3` keep-alive connections held open together, so every worker gets some.
    private func sendRequests(_ count: Int, to server: ServerProcess) throws {
        let clients = try (0..<(count / 3)).map { _ in try TestClient(port: server.port) }
        for (index, client) in clients.enumerated() {
            XCTAssertEqual(try client.get("/").status, 200)
            XCTAssertEqual(try client.get("/missing-\(index)", headers: "Referer: http://example.test/\r\n").status, 404)
            XCTAssertEqual(try client.get("/", headers: "User-Agent: test-agent/1.0\r\n").status, 200)
        }
    }

    func testEveryRequestGetsOneCombinedLineWithinASecondAndTheRestOnExit() throws {
        let path = directory + "/access.log"
        let server = try ServerProcess(["--host", "127.0.0.1", "--workers", "2", "--access-log", path])
        try sendRequests(60, to: server)
        XCTAssertTrue(ServerProcess.eventually(timeoutMilliseconds: 3000) { lines(path).count == 60 },
                      "buffered lines are written within a second; got \(lines(path).count)")
        try sendRequests(6, to: server)
        XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
        let written = lines(path)
        XCTAssertEqual(written.count, 66, "lines still buffered are written when the workers exit")
        for line in written { XCTAssertTrue(Self.isCombined(line), line) }
        XCTAssertEqual(written.filter { $0.contains("\" 404 10 \"http://example.test/\" \"-\"") }.count, 22)
        XCTAssertEqual(written.filter { $0.hasSuffix("\"-\" \"test-agent/1.0\"") }.count, 22)
    }

    /// What logrotate does: rename the log to `path.1`, then USR1 to the master; waits until every worker has reopened.
    private func rotate(_ path: String, of server: ServerProcess, workers: Int) throws {
        try FileManager.default.moveItem(atPath: path, toPath: path + ".1")
        kill(server.pid, SIGUSR1)
        var errors = ""
        XCTAssertTrue(ServerProcess.eventually {
            errors += server.standardError()
            return errors.components(separatedBy: "reopened the access log").count - 1 == workers
        }, "every worker reopens the log: \(errors)")
    }

    func testNoLineIsLostWhenTheLogIsRenamedAndReopenedOnUSR1() throws {
        let path = directory + "/access.log"
        let server = try ServerProcess(["--host", "127.0.0.1", "--workers", "2", "--access-log", path])
        try sendRequests(30, to: server)
        try rotate(path, of: server, workers: 2)
        try sendRequests(21, to: server)
        XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
        XCTAssertEqual(lines(path + ".1").count, 30, "lines from before the signal end up in the renamed file")
        XCTAssertEqual(lines(path).count, 21, "lines from after it go to the new file")
    }

    func testWorkersRunningAsAnotherUserWriteTheLogTheMasterCreated() throws {
        try XCTSkipIf(getuid() != 0, "dropping to another user needs root")
        // Only root may write in the directory, as in /var/log: the master creates the files.
        chmod(directory, 0o755)
        let path = directory + "/access.log"
        let server = try ServerProcess(["--host", "127.0.0.1", "--workers", "2", "--user", "nobody", "--access-log", path])
        try sendRequests(9, to: server)
        try rotate(path, of: server, workers: 2)
        try sendRequests(6, to: server)
        XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
        XCTAssertEqual(lines(path + ".1").count, 9, "the workers, running as nobody, wrote the first file")
        XCTAssertEqual(lines(path).count, 6, "and the one the master made for them after the rename")
        var status = stat()
        XCTAssertEqual(stat(path, &status), 0)
        XCTAssertEqual(status.st_uid, 65534, "the new file belongs to nobody")
    }

    /// logrotate renames the log, and before its USR1 arrives a worker starts (here: a
    /// replacement for a killed one). Under --user, in a directory only root may write to,
    /// that worker could not create the log and failed until the master's next USR1.
    func testAWorkerStartingAfterTheLogWasRenamedStillServesUnderAnotherUser() throws {
        try XCTSkipIf(getuid() != 0, "dropping to another user needs root")
        chmod(directory, 0o755)
        let path = directory + "/access.log"
        let server = try ServerProcess(["--host", "127.0.0.1", "--workers", "1", "--user", "nobody", "--access-log", path])
        let first = try XCTUnwrap(server.onlyWorkerPID(), "the worker runs")
        try FileManager.default.moveItem(atPath: path, toPath: path + ".1")
        kill(first, SIGKILL)
        XCTAssertTrue(ServerProcess.eventually { server.workerPIDs().contains { $0 != first } }, "a replacement worker runs")
        XCTAssertEqual(try TestClient(port: server.port).get("/").status, 200, "and serves")
        XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
        XCTAssertFalse(server.standardError().contains("worker failed"), "no worker failed to open the log")
        XCTAssertEqual(lines(path).count, 1, "the replacement logged its request in a new file")
    }

    func testTheMasterNeverHandsOverAFileASymbolicLinkPointsTo() throws {
        try XCTSkipIf(getuid() != 0, "dropping to another user needs root")
        // As if the user had planted the link in a log directory it may write to.
        let target = directory + "/root-only"
        XCTAssertTrue(FileManager.default.createFile(atPath: target, contents: Data("secret\n".utf8),
                                                    attributes: [.posixPermissions: 0o600]))
        let path = directory + "/access.log"
        try FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: target)
        let server = try ServerProcess(["--host", "127.0.0.1", "--workers", "1", "--user", "nobody", "--access-log", path])
        kill(server.pid, SIGUSR1)
        XCTAssertTrue(ServerProcess.eventually { server.isAtRest() }, "the master and its worker have acted on USR1")
        _ = server.stop()
        var status = stat()
        XCTAssertEqual(stat(target, &status), 0)
        XCTAssertEqual(status.st_uid, 0, "the file behind the link still belongs to root")
    }

    func testDashWritesTheLogToStandardOutput() throws {
        let server = try ServerProcess(["--host", "127.0.0.1", "--workers", "1", "--access-log", "-"])
        try sendRequests(9, to: server)
        XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
        let written = server.standardOutput().split(separator: "\n").map(String.init)
        XCTAssertEqual(written.count, 9, "\(written)")
        for line in written { XCTAssertTrue(Self.isCombined(line), line) }
    }

    func testALogThatCannotBeWrittenCostsNoRequestAndIsReportedOnce() throws {
        try XCTSkipUnless(access("/dev/full", W_OK) == 0, "no /dev/full here")
        let server = try ServerProcess(["--host", "127.0.0.1", "--workers", "1", "--access-log", "/dev/full"])
        try sendRequests(9, to: server)
        var errors = ""
        XCTAssertTrue(ServerProcess.eventually(timeoutMilliseconds: 3000) {
            errors += server.standardError()
            return errors.contains("access log lines lost")
        }, "the once-a-second write failed and said so: \(errors)")
        try sendRequests(9, to: server)  // their write fails again, at the next flush or the exit, silently
        XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
        errors += server.standardError()
        XCTAssertEqual(errors.components(separatedBy: "access log lines lost").count - 1, 1,
                       "one error until a write succeeds: \(errors)")
        XCTAssertTrue(errors.contains("No space left on device"), errors)
    }

    func testNoLogIsWrittenByDefaultOrWhenOff() throws {
        for flags in [[], ["--access-log", "off"]] {
            let server = try ServerProcess(["--host", "127.0.0.1", "--workers", "1"] + flags)
            try sendRequests(9, to: server)
            XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0)
            XCTAssertEqual(server.standardOutput(), "", "\(flags)")
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory), [], "no file named off appears")
    }
}

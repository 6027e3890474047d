// The line protocol under backpressure, against the real binary: lines that
// arrive while the answers are blocked are read and answered once the client
// reads again, in both trigger modes (edge-triggered, no new event comes for them).
import Glibc
import TestSupport
import XCTest

final class LineBackpressureTests: XCTestCase {
    func testLinesSentWhileAnswersWereBlockedAreAnsweredOnceTheClientReads() throws {
        try inEveryMode(workers: 1, extraFlags: ["--protocol", "line"]) { server, mode in
            let client = try TestClient(port: server.port, smallReceiveBuffer: true)
            // Lines until the server stops reading: its answers back up first, then the lines behind them.
            let lines = Self.sendLinesUntilBlocked(client)
            XCTAssertGreaterThan(lines, 0, "\(mode)")
            let answers = Self.countAnswers(client, expecting: lines)
            XCTAssertEqual(answers, lines, "\(mode): every line answered, none stalled behind the blocked answers")
        }
    }

    /// Sends 8-byte lines without blocking until the socket takes nothing for 300 ms
    /// (at most 2 s or 8 MB); returns how many newlines went out.
    private static func sendLinesUntilBlocked(_ client: TestClient) -> Int {
        let pattern = Array(String(repeating: "abcdefg\n", count: 512).utf8)
        let deadline = Launch.now() + 2000
        var newlines = 0
        var sent = 0
        var lastProgress = Launch.now()
        while Launch.now() < deadline && Launch.now() - lastProgress < 300 && sent < 8 * 1024 * 1024 {
            let count = pattern.withUnsafeBytes { send(client.fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL | MSG_DONTWAIT)) }
            if count > 0 {
                // A partial send ends mid-line; the next one starts a line that joins it.
                newlines += count / 8
                sent += count
                lastProgress = Launch.now()
            } else {
                usleep(10_000)
            }
        }
        return newlines
    }

    /// Reads answers until `expected` newlines came or a read times out (5 s); returns the count.
    private static func countAnswers(_ client: TestClient, expecting expected: Int) -> Int {
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        var answers = 0
        while answers < expected {
            let count = recv(client.fd, &chunk, chunk.count, 0)
            guard count > 0 else { break }
            answers += chunk[0..<count].reduce(0) { $1 == 10 ? $0 + 1 : $0 }
        }
        return answers
    }
}

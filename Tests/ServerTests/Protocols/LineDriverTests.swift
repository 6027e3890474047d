// The line protocol's driver in-process over a socketpair: answers to lines that
// arrived while earlier answers were blocked, and its shared output buffer after a burst.
import Glibc
import Logging
import TestSupport
import XCTest

@testable import Server

final class LineDriverTests: XCTestCase {
    private var pair: SocketPair!
    private var driver: LineDriver!
    private var connection: Connection<Socket>!

    override func setUpWithError() throws {
        pair = try SocketPair()
        driver = LineDriver(answer: "pid 1\n", maxLineBytes: 8192, logger: Logger(label: "test"))
        connection = Connection(socket: Socket(fd: pair.server), token: 1)
    }

    override func tearDown() {
        pair.close()
    }

    func testLinesThatArrivedWhileAnswersWereBlockedAreAnsweredOnTheWritablePath() {
        let burst = String(repeating: "\n", count: 100_000)  // 600 KB of answers: more than the socket holds
        var sentLines = 0
        var status = ConnectionStatus.idle
        for _ in 0..<100 where status != .outputPending {
            pair.clientSends(String(burst.prefix(16 * 1024)))
            sentLines += 16 * 1024
            status = driver.readable(connection)
            while status == .yielded { status = driver.readable(connection) }
        }
        XCTAssertEqual(status, .outputPending, "the client reads nothing, so the answers back up")
        pair.clientSends("last line\n")  // arrives while the answers are blocked: its event finds output pending
        sentLines += 1
        XCTAssertEqual(driver.readable(connection), .outputPending)

        // From here on, as in edge-triggered mode: only writability is reported, once the client reads.
        var answers = 0
        for _ in 0..<100_000 where status != .idle {
            answers += pair.clientReceives().utf8.reduce(0) { $1 == 10 ? $0 + 1 : $0 }
            status = status == .yielded ? driver.readable(connection) : driver.writable(connection)
        }
        answers += pair.clientReceives().utf8.reduce(0) { $1 == 10 ? $0 + 1 : $0 }
        XCTAssertEqual(answers, sentLines, "every line answered, the last one too")
    }

    func testSharedOutputBufferShrinksBackAfterABurstOfShortLines() {
        pair.clientSends(String(repeating: "\n", count: 16 * 1024))  // one read: 96 KB of answers
        var status = driver.readable(connection)
        for _ in 0..<1000 where status != .idle {
            _ = pair.clientReceives()
            status = status == .yielded ? driver.readable(connection) : driver.writable(connection)
        }
        XCTAssertEqual(status, .idle)
        XCTAssertEqual(driver.scratchOutput.capacity, LineDriver.bufferSize, "back to its normal size")
    }
}

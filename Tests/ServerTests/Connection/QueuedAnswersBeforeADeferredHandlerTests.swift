// A deferred handler starts while earlier pipelined answers still wait in the
// socket (in-process over a socketpair with a small send buffer): those answers
// go out as the client reads, and the connection's interest in level mode is
// EPOLLOUT, not EPOLLRDHUP alone (under which they waited for the handler, and a
// client's half-close was reported on every wait with nothing to do: a spin).
import CEventPoll
import Glibc
import HTTP1
import Logging
import TestSupport
import XCTest

@testable import ServerSystem
@testable import Server

/// A handler whose answers wait in the socket when the next request's handler starts.
final class QueuedAnswersBeforeADeferredHandlerTests: XCTestCase {
    /// Answers `/big` inline with 16 KiB (under the queued-output bound, over what the socket takes)
    /// and `/slow` from the handler pool once the test opens the gate.
    private final class BigThenSlow: HTTPHandler {
        let gate = Semaphore()

        func respond(to request: Request, with response: inout Response) {
            if request.path.string == "/big" {
                response.body = .bytes(Array(repeating: UInt8(ascii: "b"), count: 16 * 1024))
                return
            }
            let gate = gate
            response.deferToPool { _ in
                gate.wait()
                return Response(body: .bytes(Array("slow".utf8)))
            }
        }
    }

    func testEarlierAnswersGoOutWhileTheHandlerWorksAndAHalfCloseIsNotWaitedFor() throws {
        let pair = try SocketPair()
        defer { pair.close() }
        // A small send buffer: the 16 KiB answer does not fit, so it waits while /slow's handler works.
        var size: Int32 = 4096
        XCTAssertEqual(setsockopt(pair.server, SOL_SOCKET, SO_SNDBUF, &size, socklen_t(MemoryLayout<Int32>.size)), 0)
        let handler = BigThenSlow()
        let deferral = try DeferredDispatch(threads: 1, logger: Logger(label: "test"))
        defer { deferral.close() }
        let driver = ConnectionDriver(limits: RequestLimits(), writer: ResponseWriter(dateCache: DateCache(), serverName: "t"),
                                      handler: handler, logger: Logger(label: "test"), deferral: deferral)
        let connection = Connection(socket: Socket(fd: pair.server), token: 1)
        pair.clientSends("GET /big HTTP/1.1\r\nHost: t\r\n\r\nGET /slow HTTP/1.1\r\nHost: t\r\n\r\n")
        _ = driver.readable(connection)
        XCTAssertEqual(connection.phase, .handling, "/slow's handler works")
        XCTAssertNotNil(connection.output, "part of /big's answer waits for the client")
        // Level mode: EPOLLOUT, so the rest goes out as the client reads (not EPOLLRDHUP alone, under which
        // it waited for /slow's answer, and a half-close was reported on every wait: a spin).
        XCTAssertEqual(connection.wantedInterest, .write)
        XCTAssertEqual(TriggerMode.level.events(for: connection.wantedInterest), CEP_EPOLLOUT)
        var received = ""
        for _ in 0..<1000 where connection.output != nil {
            received += pair.clientReceives()
            _ = driver.writable(connection)
        }
        received += pair.clientReceives()
        XCTAssertNil(connection.output, "all of /big's answer went out before /slow's")
        XCTAssertEqual(received.components(separatedBy: "HTTP/1.1 200").count - 1, 1)
        XCTAssertEqual(connection.phase, .handling, "/slow's handler still works")
        XCTAssertEqual(connection.wantedInterest, .none, "only a hang-up is watched now")
        handler.gate.signal()
    }
}

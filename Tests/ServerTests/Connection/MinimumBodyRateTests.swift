// MinimumBodyRate: when a body's average rate falls short, and Kestrel's default;
// and the driver measuring it on the clock it was given.
import Logging
import TestSupport
import XCTest

@testable import Server

final class MinimumBodyRateTests: XCTestCase {
    func testDefaultIsKestrels240BytesPerSecondAfterFiveSeconds() {
        XCTAssertEqual(MinimumBodyRate(), MinimumBodyRate(bytesPerSecond: 240, graceMilliseconds: 5000))
    }

    func testNothingIsTooSlowDuringTheGracePeriod() {
        let rate = MinimumBodyRate(bytesPerSecond: 240, graceMilliseconds: 5000)
        XCTAssertFalse(rate.isViolated(bytes: 0, elapsedMilliseconds: 5000))
    }

    func testAfterTheGracePeriodTheAverageSinceTheHeadMustReachTheRate() {
        let rate = MinimumBodyRate(bytesPerSecond: 240, graceMilliseconds: 5000)
        XCTAssertFalse(rate.isViolated(bytes: 2400, elapsedMilliseconds: 10_000), "exactly 240 bytes/s")
        XCTAssertTrue(rate.isViolated(bytes: 2399, elapsedMilliseconds: 10_000))
        // One byte every nine seconds, the trickle that used to hold a connection for days.
        XCTAssertTrue(rate.isViolated(bytes: 1, elapsedMilliseconds: 9000))
    }

    func testZeroTurnsTheCheckOff() {
        let rate = MinimumBodyRate(bytesPerSecond: 0, graceMilliseconds: 1)
        XCTAssertFalse(rate.isViolated(bytes: 0, elapsedMilliseconds: 86_400_000))
    }

    func testHugeRatesAndDurationsDoNotOverflow() {
        let rate = MinimumBodyRate(bytesPerSecond: .max, graceMilliseconds: 1)
        XCTAssertTrue(rate.isViolated(bytes: .max / 2, elapsedMilliseconds: .max))
    }

    // MARK: On the driver's clock

    func testBodyTrickledBelowTheRateOnTheDriversClockGets408() throws {
        let (pair, driver, connection, clock) = try Self.driverOnFakeClock()
        defer { pair.close() }
        pair.clientSends("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\n0123")
        XCTAssertEqual(driver.readable(connection), .idle, "the body's clock starts")
        clock.now += 6000  // past the 5 s grace with 5 bytes: far below 240 bytes/s
        pair.clientSends("4")
        _ = driver.readable(connection)
        XCTAssertTrue(pair.clientReceives().hasPrefix("HTTP/1.1 408 "))
    }

    private final class FakeClock {
        var now = 1_000_000
    }

    private final class OKHandler: HTTPHandler {
        func respond(to request: Request, with response: inout Response) {}
    }

    private static func driverOnFakeClock() throws -> (SocketPair, ConnectionDriver, Connection<Socket>, FakeClock) {
        let pair = try SocketPair()
        let clock = FakeClock()
        let driver = ConnectionDriver(limits: RequestLimits(), writer: ResponseWriter(dateCache: DateCache(), serverName: "t"),
                                      handler: OKHandler(), logger: Logger(label: "test"), clock: { clock.now })
        return (pair, driver, Connection(socket: Socket(fd: pair.server), token: 1), clock)
    }
}

// MinimumBodyRate: when a body's average rate falls short, and Kestrel's default.
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
}

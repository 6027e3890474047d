// StraceOutputTests: the system call tests read strace -f output, where a call
// interrupted by another thread's call is split in two lines; the trace joins them.
import XCTest

final class StraceOutputTests: XCTestCase {
    func testACallInterruptedByAnotherThreadsCallIsJoinedIntoOneLine() {
        // As strace 6.1 writes them (-f -o FILE), column padding included.
        let lines = [
            "4930  sendfile(7, 9, [0] => [262144], 262144 <unfinished ...>",
            "4934  pread64(9,  <unfinished ...>",
            "4934  <... pread64 resumed>\"\"..., 262144, 524288) = 262144",
            "4930  <... sendfile resumed>)       = 262144",
            "4930  read(5, \"\", 4096)                   = 0",
        ]
        XCTAssertEqual(Strace.joiningInterruptedCalls(lines), [
            "4934  pread64(9, \"\"..., 262144, 524288) = 262144",
            "4930  sendfile(7, 9, [0] => [262144], 262144)       = 262144",
            "4930  read(5, \"\", 4096)                   = 0",
        ])
    }

    func testAResumedLineWithoutItsStartIsKeptAsItIs() {
        // The trace attached while the call was under way.
        let lines = ["4930  <... epoll_wait resumed>[], 512, 1000) = 0"]
        XCTAssertEqual(Strace.joiningInterruptedCalls(lines), lines)
    }
}

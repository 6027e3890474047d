// SystemCallRulesTests: the two rules of ServerSystem that a grep can check.
// errno is read in one function (systemCall, in SystemError.swift), so the EINTR
// and EAGAIN policy cannot be bypassed; close(2) is called in one
// (FileDescriptor.close), so no descriptor can be closed twice.
import XCTest

final class SystemCallRulesTests: XCTestCase {
    private static let targets = ["ServerSystem", "HTTP1", "TLS", "Server", "ServerEcosystem", "ServerCLI"]

    func testErrnoIsReadOnlyInSystemError() throws {
        try assertOnlyIn("Sources/ServerSystem/SystemError.swift", match: Self.readsErrno)
    }

    func testCloseIsCalledOnlyByFileDescriptor() throws {
        try assertOnlyIn("Sources/ServerSystem/FileDescriptor.swift", match: Self.callsClose)
    }

    func testTheRulesRecogniseWhatTheyLookFor() {
        XCTAssertTrue(Self.readsErrno("let code = errno"))
        XCTAssertTrue(Self.readsErrno("if Glibc.errno == EINTR {"))
        XCTAssertFalse(Self.readsErrno("throw SystemError(call: call, errno: code)"))
        XCTAssertFalse(Self.readsErrno("catch where error.errno == ESRCH"))
        XCTAssertTrue(Self.callsClose("_ = Glibc.close(fd)"))
        XCTAssertTrue(Self.callsClose("defer { _ = close(fd) }"))
        XCTAssertFalse(Self.callsClose("listener.close()"))
        XCTAssertFalse(Self.callsClose("close(connection)"))
    }

    /// A read of the C `errno`: not a label (`errno:`), not a member (`error.errno`).
    private static func readsErrno(_ code: String) -> Bool {
        code.matches(of: /(^|[^.\w])errno\b(?!\s*:)|Glibc\.errno/).contains { _ in true }
    }

    /// close(2) on a number: `close(fd)` or `Glibc.close(...)`; a method or a
    /// connection (`listener.close()`, the event loop's `close(connection)`) is not.
    private static func callsClose(_ code: String) -> Bool {
        code.contains("Glibc.close(") || code.contains(/(^|[^.\w])close\((fd|raw|\$0|readEnd|writeEnd)\)/)
    }

    private func assertOnlyIn(_ allowed: String, match: (String) -> Bool,
                              file: StaticString = #filePath, line: UInt = #line) throws {
        var checked = 0
        for target in Self.targets {
            for source in try SourceTree.files(of: target) where source.path != allowed {
                checked += 1
                for (number, text) in SourceTree.code(of: source.text).split(separator: "\n", omittingEmptySubsequences: false).enumerated()
                where match(String(text)) {
                    XCTFail("\(source.path):\(number + 1): \(text.drop { $0 == " " })", file: file, line: line)
                }
            }
        }
        XCTAssertGreaterThan(checked, 50, "the sources were found", file: file, line: line)
    }
}

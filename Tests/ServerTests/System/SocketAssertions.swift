// XCTest's assertions take `Any`, which a socket (not copyable: it owns its
// descriptor) cannot become; these overloads let the assertions on accepted
// sockets read as they do for any other optional.
import XCTest

@testable import ServerSystem

func XCTAssertNil(_ expression: @autoclosure () throws -> Socket?, _ message: @autoclosure () -> String = "",
                  file: StaticString = #filePath, line: UInt = #line) {
    do {
        if let socket = try expression() {
            socket.close()
            XCTFail("XCTAssertNil failed: a socket with fd was returned - \(message())", file: file, line: line)
        }
    } catch {
        XCTFail("XCTAssertNil threw \(error) - \(message())", file: file, line: line)
    }
}

func XCTUnwrap(_ expression: @autoclosure () throws -> Socket?, _ message: @autoclosure () -> String = "",
               file: StaticString = #filePath, line: UInt = #line) throws -> Socket {
    guard let socket = try expression() else {
        XCTFail("XCTUnwrap failed: expected a socket, got nil - \(message())", file: file, line: line)
        throw SocketExpected()
    }
    return socket
}

private struct SocketExpected: Error {}

extension Optional where Wrapped == Socket {
    /// `map` for a socket, which the standard library's (for copyable values only) cannot take.
    consuming func map<Result>(_ transform: (consuming Socket) throws -> Result) rethrows -> Result? {
        switch consume self {
        case .some(let socket): return try transform(socket)
        case .none: return nil
        }
    }
}

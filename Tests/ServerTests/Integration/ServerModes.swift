// The four ways to run the hybrid server; every integration case runs in each.
import TestSupport
import XCTest

enum ServerMode: CaseIterable, CustomStringConvertible {
    case sharedLevel, sharedEdge, reusePortLevel, reusePortEdge

    var flags: [String] {
        switch self {
        case .sharedLevel: return []
        case .sharedEdge: return ["--edge-triggered"]
        case .reusePortLevel: return ["--reuseport"]
        case .reusePortEdge: return ["--reuseport", "--edge-triggered"]
        }
    }

    var description: String { flags.isEmpty ? "(shared listener, level-triggered)" : flags.joined(separator: " ") }
}

extension XCTestCase {
    /// Starts the server once per mode (two workers on 127.0.0.1) and runs `body`
    /// against it; a failure names the mode. The server is stopped afterwards.
    func inEveryMode(workers: Int = 2, extraFlags: [String] = [],
                     _ body: (ServerProcess, ServerMode) throws -> Void) throws {
        for mode in ServerMode.allCases {
            let server = try ServerProcess(["--host", "127.0.0.1", "--workers", "\(workers)"] + mode.flags + extraFlags)
            do {
                try body(server, mode)
            } catch {
                XCTFail("\(mode): \(error)")
            }
            XCTAssertEqual(server.stop().flatMap(exitCode(ofWaitStatus:)), 0, "\(mode): clean exit on SIGTERM")
        }
    }
}

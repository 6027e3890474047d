// LayeringTests: every target imports only targets below it (and the system and
// package modules its layer may use). The compiler already refuses an import
// that closes a cycle ("circular dependency between modules 'HTTP1' and
// 'Server'"); this also catches an import of a module that merely happens to be
// built already, which SwiftPM does not check, and a layer reaching for a
// library that belongs higher up (HTTP1 logging through swift-log).
import XCTest

final class LayeringTests: XCTestCase {
    /// The targets, lowest first: each may import only those before it. The two
    /// executables come last (neither can import the other: executables export nothing).
    static let layers = ["CEventPoll", "ServerSystem", "HTTP1", "CTLS", "TLS", "Server", "StaticFiles", "ServerEcosystem", "ServerJSON", "ServerCommandLine", "ServerCLI", "ExampleServer"]

    /// The C shims, which have no Swift files to check.
    static let cTargets: Set = ["CEventPoll", "CTLS"]

    /// Modules outside the package, and the lowest layer allowed to import each.
    static let external: [String: String] = [
        "Glibc": "ServerSystem", "Synchronization": "ServerSystem",
        "Logging": "Server", "CoreMetrics": "Server", "ArgumentParser": "ServerCommandLine", "CZlib": "Server",
        "CBrotli": "Server",
        "HTTPTypes": "ServerEcosystem", "ServiceLifecycle": "ServerEcosystem", "Tracing": "ServerEcosystem",
        "Dispatch": "ServerEcosystem", "FoundationEssentials": "ServerJSON",
    ]

    func testEveryTargetImportsOnlyLayersBelowIt() throws {
        for (level, target) in Self.layers.enumerated() where !Self.cTargets.contains(target) {
            for file in try SourceTree.files(of: target) {
                for module in SourceTree.imports(in: file.text) {
                    XCTAssertTrue(Self.allows(level: level, module), "\(file.path) imports \(module), which \(target) may not")
                }
            }
        }
    }

    func testTheCheckSeesAnUpwardImport() {
        let level = Self.layers.firstIndex(of: "HTTP1")!
        XCTAssertEqual(SourceTree.imports(in: "// HTTP1\nimport Glibc\n@testable import Server\nimport struct Logging.Logger\n"),
                       ["Glibc", "Server", "Logging"])
        XCTAssertFalse(Self.allows(level: level, "Server"))
        XCTAssertFalse(Self.allows(level: level, "Logging"))
        XCTAssertTrue(Self.allows(level: level, "ServerSystem"))
    }

    func testEveryTargetHasSources() throws {
        for target in Self.layers where !Self.cTargets.contains(target) {
            XCTAssertFalse(try SourceTree.files(of: target).isEmpty, "no Swift files found for \(target) under \(SourceTree.root)")
        }
    }

    private static func allows(level: Int, _ module: String) -> Bool {
        if let below = layers.firstIndex(of: module) { return below < level }
        guard let lowest = external[module], let lowestLevel = layers.firstIndex(of: lowest) else { return false }
        return lowestLevel <= level
    }
}

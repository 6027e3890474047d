// swift-tools-version:6.0
//
// A prefork + epoll HTTP/1.1 server: the `Server` library (supervisor, reactor,
// HTTP, handlers) over the `CEventPoll` kernel shim, and the `server` executable.
import PackageDescription

let package = Package(
    name: "swift-prefork-server",
    products: [
        .executable(name: "server", targets: ["ServerCLI"]),
        .library(name: "Server", targets: ["Server"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
    ],
    targets: [
        .target(name: "CEventPoll"),
        .target(
            name: "Server",
            dependencies: [
                "CEventPoll",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "ServerCLI",
            dependencies: [
                "Server",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Counts malloc calls so the benchmarks can prove the hot path allocates nothing.
        .target(name: "CMallocCounter", path: "Tests/CMallocCounter"),
        // Starts the real `server` binary and talks to it over sockets; shared by both test targets.
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(
            name: "ServerTests",
            // ServerCLI is listed so that `swift test` always builds the `server` binary first.
            dependencies: ["Server", "CEventPoll", "ServerCLI", "TestSupport"]
        ),
        .testTarget(
            name: "ServerBenchmarks",
            dependencies: ["Server", "CMallocCounter", "ServerCLI", "TestSupport"]
        ),
    ]
)

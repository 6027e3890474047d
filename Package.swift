// swift-tools-version:6.0
//
// A prefork + epoll HTTP/1.1 server, in targets along the data flow; each
// imports only those below it, so the build keeps the arrows pointing one way:
//   ServerCLI -> ServerCommandLine (flags, the life of an executable)
//             -> ServerJSON (Encodable values as JSON bodies)
//             -> ServerEcosystem (swift-http-types, request ids, service groups, tracing)
//             -> StaticFiles (the file-serving handler)
//             -> Server (supervisor, reactor, connections, handlers, logging)
//             -> TLS (certificates, TLS sessions as a connection transport)
//             -> CTLS (the OpenSSL shim)
//             -> HTTP1 (buffers, parser, request/response, writer)
//             -> ServerSystem (syscalls, descriptors, sockets, epoll, signals)
//             -> CEventPoll (the C shim)
// The `Server` library product re-exports what an embedder needs.
import PackageDescription

let package = Package(
    name: "swift-prefork-server",
    products: [
        .executable(name: "server", targets: ["ServerCLI"]),
        .executable(name: "example-server", targets: ["ExampleServer"]),
        .library(name: "Server", targets: ["Server"]),
        .library(name: "StaticFiles", targets: ["StaticFiles"]),
        .library(name: "ServerCommandLine", targets: ["ServerCommandLine"]),
        .library(name: "ServerEcosystem", targets: ["ServerEcosystem"]),
        .library(name: "ServerJSON", targets: ["ServerJSON"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.4.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-distributed-tracing", from: "1.7.0"),
    ],
    targets: [
        .target(name: "CEventPoll"),
        // The system's zlib, for gzip of responses (Server/Compression).
        .systemLibrary(name: "CZlib", path: "Sources/CZlib", providers: [.apt(["zlib1g-dev"])]),
        // The system's libbrotli, for brotli of responses (Server/Compression) and decoding it in tests.
        .systemLibrary(name: "CBrotli", path: "Sources/CBrotli", providers: [.apt(["libbrotli-dev"])]),
        .target(name: "ServerSystem", dependencies: ["CEventPoll"]),
        .target(name: "HTTP1", dependencies: ["ServerSystem"]),
        // OpenSSL 3, for HTTPS (Debian: libssl-dev to build, libssl3 to run).
        .target(name: "CTLS", linkerSettings: [.linkedLibrary("ssl"), .linkedLibrary("crypto")]),
        .target(name: "TLS", dependencies: ["CTLS", "ServerSystem"]),
        .target(
            name: "Server",
            dependencies: [
                "CEventPoll",
                "CZlib",
                "CBrotli",
                "ServerSystem",
                "HTTP1",
                "TLS",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ]
        ),
        // Serving the files of a directory: a handler embedders mount, and what `server --root` runs.
        .target(name: "StaticFiles", dependencies: ["CEventPoll", "ServerSystem", "HTTP1", "Server"]),
        // The Swift server ecosystem, each behind its own library's API: handlers written against
        // swift-http-types, request ids in swift-log metadata, a ServiceGroup per worker, a span per request.
        .target(
            name: "ServerEcosystem",
            dependencies: [
                "HTTP1",
                "Server",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ]
        ),
        // Encodable values as JSON response bodies, written without Foundation's tree of values
        // (Foundation only for its special types, and as the fallback encoder).
        .target(name: "ServerJSON", dependencies: ["HTTP1"]),
        // The server's flags and the life of an executable: shared by `server` and the example.
        .target(
            name: "ServerCommandLine",
            dependencies: [
                "Server",
                "StaticFiles",
                "ServerEcosystem",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "ServerCLI",
            dependencies: ["ServerCommandLine", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        // An embedder's server: the library with routes of its own (used by the integration tests).
        .executableTarget(
            name: "ExampleServer",
            dependencies: ["Server", "ServerCommandLine", "StaticFiles", "ServerEcosystem", "CZlib",
                           .product(name: "ArgumentParser", package: "swift-argument-parser"),
                           .product(name: "HTTPTypes", package: "swift-http-types"),
                           .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                           .product(name: "Logging", package: "swift-log"),
                           .product(name: "Tracing", package: "swift-distributed-tracing"),
                           .product(name: "CoreMetrics", package: "swift-metrics")],
            path: "Examples/ExampleServer"
        ),
        // Counts malloc calls so the benchmarks can prove the hot path allocates nothing.
        .target(name: "CMallocCounter", path: "Tests/CMallocCounter"),
        // Starts the real `server` binary and talks to it over sockets; shared by both test targets.
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(
            name: "ServerTests",
            // ServerCLI and ExampleServer are listed so that `swift test` always builds both binaries first.
            dependencies: ["Server", "HTTP1", "ServerSystem", "CEventPoll", "ServerCLI", "ExampleServer",
                           "ServerCommandLine", "StaticFiles", "TestSupport", "CZlib", "CBrotli", "ServerEcosystem", "ServerJSON", "TLS", "CTLS",
                           .product(name: "HTTPTypes", package: "swift-http-types"),
                           .product(name: "Tracing", package: "swift-distributed-tracing"),
                           .product(name: "InMemoryTracing", package: "swift-distributed-tracing"),
                           .product(name: "CoreMetrics", package: "swift-metrics")]
        ),
        .testTarget(
            name: "ServerBenchmarks",
            dependencies: ["Server", "StaticFiles", "CMallocCounter", "ServerCLI", "TestSupport", "ServerEcosystem", "ServerJSON",
                           .product(name: "HTTPTypes", package: "swift-http-types"),
                           .product(name: "Tracing", package: "swift-distributed-tracing"),
                           .product(name: "CoreMetrics", package: "swift-metrics")]
        ),
    ]
)

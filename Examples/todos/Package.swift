// swift-tools-version:6.0
//
// example-service: a small JSON API over SQLite, built on this repository's
// server library (its own package, so the server's build never pulls in a
// database). Run it with:
//   swift run --package-path Examples/todos -c release example-service --port 8080
import PackageDescription

// SwiftPM names a path dependency after its directory ("../.." is the clone's own
// folder, whose name differs between checkouts), so the name is read from this file's path.
let server = String(#filePath.split(separator: "/").dropLast(3).last ?? "server").lowercased()

let package = Package(
    name: "todos",
    products: [.executable(name: "example-service", targets: ["ExampleService"])],
    dependencies: [
        .package(path: "../.."),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.0.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.4.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
    ],
    targets: [
        // libcrypto's EVP digest API, from Debian's libssl-dev (see Digest.swift for why).
        .systemLibrary(name: "CCrypto", path: "Sources/CCrypto"),
        .executableTarget(
            name: "ExampleService",
            dependencies: [
                "CCrypto",
                .product(name: "Server", package: server),
                .product(name: "ServerCommandLine", package: server),
                .product(name: "ServerEcosystem", package: server),
                .product(name: "ServerJSON", package: server),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ]
        ),
    ]
)

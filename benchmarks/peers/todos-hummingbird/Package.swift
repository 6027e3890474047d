// swift-tools-version:6.0
// The todos example service (Examples/todos) written for Hummingbird 2: the same
// routes, the same SQLite schema and queries through GRDB, the same SHA-256
// (OpenSSL's libcrypto). The peer the harness compares example-service with.
import PackageDescription

let package = Package(
    name: "todos-hummingbird",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.0.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.0.0"),
    ],
    targets: [
        // libcrypto's EVP digest API (Debian's libssl-dev), as in Examples/todos.
        .systemLibrary(name: "CCrypto", path: "Sources/CCrypto"),
        .executableTarget(
            name: "TodosHummingbird",
            dependencies: [
                "CCrypto",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
    ]
)

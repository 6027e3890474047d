// swift-tools-version:6.0
// A Hummingbird 2 hello-world server: the SwiftNIO-based peer in scripts/bench.
import PackageDescription

let package = Package(
    name: "hello-hummingbird",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.0.0"),
    ],
    targets: [
        .executableTarget(
            name: "HelloHummingbird",
            dependencies: [.product(name: "Hummingbird", package: "hummingbird")]
        ),
    ]
)

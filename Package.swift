// swift-tools-version:6.0
import PackageDescription

// Dependencies point one way:
//   IGDProtocol (pure codecs) <- IGDClient (the only module with sockets) <- PortKeeper (domain) <- portkeeper (CLI)
//   IGDTestSupport (fake gateway, fixtures, lab control) serves the tests only.
let package = Package(
    name: "portkeeper",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "portkeeper", targets: ["portkeeper"]),
        .library(name: "PortKeeper", targets: ["PortKeeper"]),
        .library(name: "IGDClient", targets: ["IGDClient"]),
        .library(name: "IGDProtocol", targets: ["IGDProtocol"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: [
        .target(name: "IGDProtocol"),
        .target(
            name: "IGDClient",
            dependencies: [
                "IGDProtocol",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "PortKeeper",
            dependencies: [
                "IGDProtocol",
                "IGDClient",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "portkeeper",
            dependencies: [
                "PortKeeper",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Drives the library from inside a lab namespace (the tests run it with `ip netns exec`).
        .executableTarget(
            name: "lab-probe",
            dependencies: ["IGDClient", "IGDProtocol"]
        ),
        .target(
            name: "IGDTestSupport",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .testTarget(name: "IGDProtocolTests", dependencies: ["IGDProtocol"]),
        .testTarget(name: "IGDClientTests", dependencies: ["IGDClient", "IGDProtocol", "IGDTestSupport"]),
        .testTarget(name: "PortKeeperTests", dependencies: ["PortKeeper", "IGDTestSupport"]),
        .testTarget(name: "LabTests", dependencies: ["IGDProtocol", "IGDTestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)

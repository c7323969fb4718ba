// swift-tools-version:6.0
import PackageDescription

// libFuzzer targets for every parser that reads bytes from a gateway. A package of its own so
// the main `swift build` never compiles it; build and run it with scripts/fuzz.sh, which passes
// `--sanitize fuzzer --sanitize address` (SwiftPM's own flags: they instrument NIO's C HTTP
// parser too and let libFuzzer's main link in place of the executable's).
//
// Every target asserts its parser's contract, not only "no crash": a parse returns a value that
// re-encodes to bytes the parser accepts again and decodes to an equal value, or throws one of
// the documented error types; anything else traps so libFuzzer reports it.
let package = Package(
    name: "portkeeper-fuzz",
    platforms: [.macOS(.v13)],
    dependencies: [
        .package(name: "portkeeper", path: ".."),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
    ],
    targets: [
        // Re-encoders and contract checks shared by the targets (test code, not the library's).
        .target(
            name: "FuzzSupport",
            dependencies: [.product(name: "IGDProtocol", package: "portkeeper")]
        ),
        .executableTarget(name: "fuzz-ssdp-search", dependencies: ["FuzzSupport", .product(name: "IGDProtocol", package: "portkeeper")]),
        .executableTarget(name: "fuzz-ssdp-notify", dependencies: ["FuzzSupport", .product(name: "IGDProtocol", package: "portkeeper")]),
        .executableTarget(name: "fuzz-xml-tree", dependencies: ["FuzzSupport", .product(name: "IGDProtocol", package: "portkeeper")]),
        .executableTarget(name: "fuzz-device-description", dependencies: ["FuzzSupport", .product(name: "IGDProtocol", package: "portkeeper")]),
        .executableTarget(name: "fuzz-soap-response", dependencies: ["FuzzSupport", .product(name: "IGDProtocol", package: "portkeeper")]),
        .executableTarget(name: "fuzz-action-responses", dependencies: ["FuzzSupport", .product(name: "IGDProtocol", package: "portkeeper")]),
        .executableTarget(name: "fuzz-natpmp-response", dependencies: ["FuzzSupport", .product(name: "IGDProtocol", package: "portkeeper"), .product(name: "PCPProtocol", package: "portkeeper")]),
        .executableTarget(name: "fuzz-pcp-response", dependencies: ["FuzzSupport", .product(name: "IGDProtocol", package: "portkeeper"), .product(name: "PCPProtocol", package: "portkeeper")]),
        .executableTarget(
            name: "fuzz-http-response",
            dependencies: [
                "FuzzSupport",
                .product(name: "IGDClient", package: "portkeeper"),
                .product(name: "IGDProtocol", package: "portkeeper"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)

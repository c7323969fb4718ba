// swift-tools-version:6.0
import PackageDescription

// Dependencies point one way:
//   IGDProtocol (pure codecs; PCPProtocol beside it for NAT-PMP and PCP) <- IGDClient (the only module with sockets) <- PortKeeper (domain) <- portkeeper (CLI)
//   IGDProtocol <- PortKeeperModel (the domain's nouns) <- MappingRegistry (SQLite through GRDB; migrations
//   from Migrations/) <- PortKeeper, which re-exports PortKeeperModel: `import PortKeeper` names a mapping.
//   IGDTestSupport (fake gateway, fixtures, lab control) serves the tests only.
let package = Package(
    name: "portkeeper",
    // macOS 15: Synchronization's Mutex and task executors (the platform portkeeper is built for is Linux).
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "portkeeper", targets: ["portkeeper"]),
        .library(name: "PortKeeper", targets: ["PortKeeper"]),
        .library(name: "IGDClient", targets: ["IGDClient"]),
        .library(name: "IGDProtocol", targets: ["IGDProtocol"]),
        .library(name: "PCPProtocol", targets: ["PCPProtocol"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        // `swift package generate-documentation` (scripts/docs.sh): a plugin, linked into nothing.
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
    ],
    targets: [
        .target(name: "IGDProtocol"),
        // NAT-PMP (RFC 6886) and PCP (RFC 6887) datagrams: pure codecs, no sockets (those stay
        // IGDClient's). A module of its own: IGDProtocol's codecs are UPnP's; it takes only
        // IPv4Address and TransportProtocol from there.
        .target(name: "PCPProtocol", dependencies: ["IGDProtocol"]),
        .target(
            name: "IGDClient",
            dependencies: [
                "IGDProtocol",
                "PCPProtocol",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The SQL files of Migrations/, embedded at build time so the binary works wherever it is copied.
        .executableTarget(name: "embed-migrations", path: "Plugins/EmbedMigrationsTool"),
        .plugin(name: "EmbedMigrations", capability: .buildTool(), dependencies: ["embed-migrations"]),
        .target(name: "Migrations", path: "Migrations", exclude: ["README.md"], plugins: ["EmbedMigrations"]),
        // The domain's nouns (MappingKey, DeclaredMapping, InternalClient, Change, RevisionActor):
        // what the registry stores and the domain and its users name. A module of their own so
        // that naming a mapping needs neither the storage module nor the UPnP client; not in
        // IGDProtocol, whose codecs are UPnP's while these nouns are the same for NAT-PMP and PCP.
        .target(name: "PortKeeperModel", dependencies: ["IGDProtocol"]),
        .target(
            name: "MappingRegistry",
            dependencies: [
                "IGDProtocol",
                "PortKeeperModel",
                "Migrations",
                .product(name: "GRDB", package: "GRDB.swift"),
                // The system SQLite GRDB builds on, for the one file control GRDB does not wrap.
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
            ]
        ),
        .target(
            name: "PortKeeper",
            dependencies: [
                "IGDProtocol",
                "IGDClient",
                // The PCP/NAT-PMP backend's nonces, answers and epoch checks.
                "PCPProtocol",
                "MappingRegistry",
                "PortKeeperModel",
                .product(name: "Logging", package: "swift-log"),
                // The declaration file (apply -f): every node keeps its line for error messages.
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        // systemd's notify protocol (one UNIX datagram socket to the local service manager; the
        // network stays IGDClient's alone).
        .target(name: "SystemdNotify"),
        // watch's metrics: WatchEvents counted through swift-metrics, rendered by swift-prometheus
        // as a node_exporter textfile and on a loopback-only HTTP endpoint. The library stays
        // metrics-free; only this module knows Prometheus (and listens, on loopback alone).
        .target(
            name: "PortKeeperMetrics",
            dependencies: [
                "PortKeeper",
                "IGDProtocol",
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        .executableTarget(
            name: "portkeeper",
            dependencies: [
                "PortKeeper",
                "PortKeeperMetrics",
                "MappingRegistry",
                "IGDClient",
                "IGDProtocol",
                "SystemdNotify",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The README's library example, word for word (a test compares them): it may import the
        // PortKeeper product alone, and member lookup as strict as SE-0444 makes it.
        .executableTarget(
            name: "keep-port",
            dependencies: ["PortKeeper"],
            path: "Examples/keep-port",
            swiftSettings: [.enableUpcomingFeature("MemberImportVisibility")]
        ),
        // Drives the library from inside a lab namespace (the tests run it with `ip netns exec`).
        .executableTarget(
            name: "lab-probe",
            // PortKeeper and MappingRegistry for `renewals`, the benchmark's in-process reconciles.
            dependencies: ["IGDClient", "IGDProtocol", "PCPProtocol", "PortKeeper", "MappingRegistry"]
        ),
        .target(
            name: "IGDTestSupport",
            dependencies: [
                "IGDProtocol",
                // The fake NAT-PMP/PCP server builds its answers with the codecs' encoders.
                "PCPProtocol",
                // For the bad-input table only (BadInputTable.swift): the description limit, the
                // machine's subnets.
                "IGDClient",
                "PortKeeper",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .testTarget(name: "IGDProtocolTests", dependencies: ["IGDProtocol"]),
        .testTarget(name: "PCPProtocolTests", dependencies: ["PCPProtocol", "IGDProtocol"]),
        .testTarget(name: "SystemdNotifyTests", dependencies: ["SystemdNotify"]),
        .testTarget(name: "PortKeeperMetricsTests", dependencies: ["PortKeeperMetrics", "PortKeeper", "MappingRegistry", "IGDProtocol", "IGDTestSupport"]),
        .testTarget(
            name: "IGDClientTests",
            dependencies: ["IGDClient", "IGDProtocol", "PCPProtocol", "IGDTestSupport", .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio")]
        ),
        .testTarget(
            name: "MappingRegistryTests",
            dependencies: ["MappingRegistry", "Migrations", "PortKeeperModel", "IGDProtocol", "IGDTestSupport", .product(name: "GRDB", package: "GRDB.swift")]
        ),
        .testTarget(name: "PortKeeperTests", dependencies: ["PortKeeper", "PortKeeperMetrics", "MappingRegistry", "IGDClient", "IGDProtocol", "PCPProtocol", "IGDTestSupport"]),
        // The CLI's own code in-process: error rendering, argument checks, JSON and progress output.
        .testTarget(name: "PortKeeperCLITests", dependencies: ["portkeeper", "PortKeeper", "MappingRegistry", "IGDClient", "IGDProtocol", "IGDTestSupport"]),
        // The built portkeeper binary run as a process against fakes on loopback: slower (a
        // process per command), so a target of its own that a quick run can skip.
        .testTarget(name: "PortKeeperProcessTests", dependencies: ["portkeeper", "PortKeeper", "IGDClient", "IGDProtocol", "IGDTestSupport"]),
        .testTarget(name: "LabTests", dependencies: ["IGDProtocol", "IGDTestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)

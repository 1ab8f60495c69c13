// swift-tools-version:6.1
// gkpass: Microsoft Passport / GateKeeper credentials for MSN Chat (IRCX) revival networks, on Linux.
//
// Layout and import rules: ../shared/docs/design.md §2. Imports only go downward:
// gkpass -> GKPassKit -> {Passport, TicketStore, GateKeeper} -> C shims. The sandbox may use GateKeeper only.
import PackageDescription

let strict: [SwiftSetting] = [
    .enableUpcomingFeature("InternalImportsByDefault"),
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "gkpass",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "gkpass", targets: ["gkpass"]),
        .library(name: "GateKeeper", targets: ["GateKeeper"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        // Thin C shims: a module map and one header of static inline wrappers each (style.md §6, "For gkpass" 12).
        .systemLibrary(
            name: "CCurl", pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(
            name: "CSecret", pkgConfig: "libsecret-1",
            providers: [.apt(["libsecret-1-dev"])]),
        .systemLibrary(
            name: "CCrypto", pkgConfig: "libcrypto",
            providers: [.apt(["libssl-dev"])]),

        // Pure protocol core: no sockets, files, clocks or globals.
        .target(name: "GateKeeper", dependencies: ["CCrypto"], swiftSettings: strict),

        // The use cases the CLI composes.
        .target(name: "GKPassKit", dependencies: ["GateKeeper", "CCrypto"], swiftSettings: strict),

        .executableTarget(
            name: "gkpass",
            dependencies: [
                "GKPassKit",
                "GateKeeper",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict),

        // In-process throughput of the GateKeeper core (scripts/bench).
        .executableTarget(
            name: "gatekeeper-bench", dependencies: ["GateKeeper"], path: "Benchmarks/GateKeeperBench",
            swiftSettings: strict),

        .testTarget(name: "GateKeeperTests", dependencies: ["GateKeeper"], swiftSettings: strict),
        .testTarget(name: "ShimTests", dependencies: ["CCurl", "CSecret", "CCrypto"], swiftSettings: strict),
        .testTarget(name: "GKPassKitTests", dependencies: ["GKPassKit"], swiftSettings: strict),
        .testTarget(name: "GKPassCLITests", dependencies: ["GateKeeper"]),
    ],
    swiftLanguageModes: [.v6]
)

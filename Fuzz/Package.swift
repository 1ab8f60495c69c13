// swift-tools-version:6.1
// Fuzz targets for every parser that reads untrusted bytes (issue 9). A separate package so the main build never
// needs libFuzzer: scripts/fuzz builds it with --sanitize=fuzzer --sanitize=address and runs each target.
import PackageDescription

/// libsecret's and GLib's headers for the targets that reach Passport or TicketStore (the CLoader header they import
/// includes libsecret's); the same list as keyringHeaders in ../Package.swift, which says why it is given by hand.
let keyringHeaders: [SwiftSetting] = [
    "/usr/include/libsecret-1", "/usr/include/glib-2.0", "/usr/lib/x86_64-linux-gnu/glib-2.0/include",
    "/usr/lib/aarch64-linux-gnu/glib-2.0/include", "/usr/lib64/glib-2.0/include", "/usr/lib/glib-2.0/include",
].map { .unsafeFlags(["-Xcc", "-I" + $0]) }

let package = Package(
    name: "gkpass-fuzz",
    dependencies: [.package(path: "gkpass")],  // scripts/fuzz links gkpass -> .. (a path package is named after its directory)
    targets: [
        .executableTarget(name: "FuzzAuthEscaping", dependencies: [.product(name: "GateKeeper", package: "gkpass")]),
        .executableTarget(name: "FuzzGateKeeperToken", dependencies: [.product(name: "GateKeeper", package: "gkpass")]),
        .executableTarget(name: "FuzzPassportBlob", dependencies: [.product(name: "GateKeeper", package: "gkpass")]),
        .executableTarget(name: "FuzzIRCXLine", dependencies: [.product(name: "GateKeeper", package: "gkpass")]),
        .executableTarget(name: "FuzzPassportHeaders", dependencies: [.product(name: "Passport", package: "gkpass")], swiftSettings: keyringHeaders),
        .executableTarget(
            name: "FuzzSetCookie", dependencies: [.product(name: "Passport", package: "gkpass"), .product(name: "GKText", package: "gkpass")],
            swiftSettings: keyringHeaders),
        .executableTarget(name: "FuzzChatPage", dependencies: [.product(name: "Passport", package: "gkpass")], swiftSettings: keyringHeaders),
        .executableTarget(name: "FuzzConfig", dependencies: [.product(name: "GKPassKit", package: "gkpass")], swiftSettings: keyringHeaders),
    ],
    swiftLanguageModes: [.v6]
)

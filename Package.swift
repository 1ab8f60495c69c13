// swift-tools-version:6.1
// gkpass: Microsoft Passport / GateKeeper credentials for MSN Chat (IRCX) revival networks, on Linux.
//
// Layout and import rules: ../shared/docs/design.md §2. Imports only go downward:
// gkpass -> GKPassKit -> {Passport, TicketStore, GateKeeper} -> {CLoader, GKText}. The sandbox may use GateKeeper
// only (and so GKText under it, never directly: it keeps its own hex, percent-encoding and dates).
// Tests/GKPassKitTests/ModuleBoundaryTests checks the imports and that no type name is declared in two modules.
import PackageDescription

/// Where libsecret's and GLib's headers live: `pkg-config --cflags libsecret-1` on Debian/Ubuntu (both multiarch
/// triples), Fedora and Arch. Given by hand because a pkgConfig entry would also link the libraries, which gkpass
/// loads on first use instead (Sources/CLoader). CLoader's header includes libsecret's, so every module that imports
/// CLoader, or a module that does (Passport, TicketStore and their clients), needs them. Fuzz/Package.swift repeats
/// the list.
let keyringHeaderPaths = [
    "/usr/include/libsecret-1", "/usr/include/glib-2.0", "/usr/lib/x86_64-linux-gnu/glib-2.0/include",
    "/usr/lib/aarch64-linux-gnu/glib-2.0/include", "/usr/lib64/glib-2.0/include", "/usr/lib/glib-2.0/include",
]
let keyringHeaders: [SwiftSetting] = keyringHeaderPaths.map { .unsafeFlags(["-Xcc", "-I" + $0]) }

/// The gkpass executable's release link: it starts once per IRC connection (`gkpass ticket`), so what the dynamic
/// loader does before `main` counts (docs/benchmarks.md, "Start-up"). Release only, where the Swift runtime is
/// linked in (--static-swift-stdlib); debug builds load the toolchain's shared Swift runtime and keep the defaults.
let linkerDirectory = Context.packageDirectory + "/Linker"
let gkpassReleaseLink: [LinkerSetting] = [
    .unsafeFlags([
        // The toolchain's lld instead of gold (clang's default here), which does not follow the `-l:libstdc++.a` in
        // Linker/static's linker scripts. Not GNU ld: its layout here loses the RELRO segment (an input .rodata is
        // writable); lld's keeps it (scripts/test-install checks PIE, BIND_NOW and RELRO).
        "-use-ld=lld",
        // Not packed relocations (-z pack-relative-relocs, DT_RELR): measured, they saved 16 page faults of 600 and
        // no CPU time that showed (docs/benchmarks.md), and a binary with them needs glibc 2.36's loader, so it would
        // no longer start on Ubuntu 22.04 (glibc 2.35), which Swift 6.3 supports.
        // Bind every function at start (full RELRO: the GOT is read-only before main). Hardening; about 300 more
        // bindings against libc at start, no cost that could be measured (docs/benchmarks.md).
        "-Xlinker", "-z", "-Xlinker", "now",
        // Export nothing (Linker/gkpass.map): the ~7,700 symbols -export-dynamic put in .dynsym were searched by
        // every binding the loader made, and nothing needs them.
        "-Xlinker", "--version-script=" + linkerDirectory + "/gkpass.map",
        // libstdc++ and libgcc_s from their static archives (Linker/static holds linker scripts under their names):
        // two shared libraries, and libstdc++'s 1,700 symbol bindings, fewer at every start.
        "-L", linkerDirectory + "/static",
    ], .when(configuration: .release)),
]

let strict: [SwiftSetting] = [
    .enableUpcomingFeature("InternalImportsByDefault"),
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "gkpass",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "gkpass", targets: ["gkpass"]),
        .executable(name: "gkpass-sandbox", targets: ["gkpass-sandbox"]),
        .library(name: "GateKeeper", targets: ["GateKeeper"]),
        // For the fuzz targets in Fuzz/ (a separate package) and other tools that want the parsers.
        .library(name: "Passport", targets: ["Passport"]),
        .library(name: "GKPassKit", targets: ["GKPassKit"]),
        .library(name: "GKText", targets: ["GKText"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        // The sandbox servers (design.md §8): SwiftNIO for TCP and HTTP/1, NIOSSL for TLS, swift-certificates and
        // swift-crypto to mint the sandbox's own CA and server certificate at first start. Of these only
        // swift-crypto reaches the gkpass binary: its HMAC-MD5 (GateKeeper) and HMAC-SHA256 (the guest GUID),
        // compiled in, so gkpass loads no libcrypto.
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-certificates", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-asn1", from: "1.7.4"),
    ],
    targets: [
        // The one C loader (design.md §2): dlopen()s libcurl and libsecret/GLib on first use, once each, resolves
        // every symbol at load, names the missing library and Debian package, and carries an ELF .note.dlopen per
        // library; Swift calls its gk_* functions (one table per library, in curl.c and secret.c). Nothing is
        // linked: no pkgConfig, so no -lcurl or -lsecret-1. Headers: libcurl4-openssl-dev (default include path)
        // and libsecret-1-dev (`keyringHeaderPaths`).
        .target(
            name: "CLoader",
            cSettings: [.unsafeFlags(keyringHeaderPaths.map { "-I" + $0 })]),
        // The one leaf of text encodings the client modules share: hex, percent-encoding, HTTP dates and the store's
        // ISO 8601 UTC times. Pure Swift: no dependencies, no I/O, no Foundation.
        .target(name: "GKText", swiftSettings: strict),
        // prctl(PR_SET_DUMPABLE) and RLIMIT_CORE for the gkpass process (libc only; no library to link).
        .systemLibrary(name: "CProcess"),
        // Pure protocol core: no sockets, files, clocks or globals, and no library loaded at run time (HMAC-MD5 is
        // swift-crypto's, compiled in).
        .target(
            name: "GateKeeper", dependencies: ["GKText", .product(name: "Crypto", package: "swift-crypto")], swiftSettings: strict),

        // The HTTPS Passport login flows over libcurl. Knows nothing of storage.
        // swift-crypto keys the -v trace's fingerprints (HMAC-SHA256 under a per-run random key, Redaction).
        .target(
            name: "Passport",
            dependencies: ["CLoader", "GKText", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: strict + keyringHeaders),

        // Where tickets live: the Secret Service (every call through libsecret, after checking who runs the bus)
        // and a private file store, with per-account locks. Items are opaque secrets under clear metadata: the
        // ticket document (TicketSet) is GKPassKit's.
        .target(name: "TicketStore", dependencies: ["CLoader", "GKText"], swiftSettings: strict + keyringHeaders),

        // The use cases the CLI composes, and the ticket document.
        .target(
            name: "GKPassKit",
            dependencies: ["GateKeeper", "Passport", "TicketStore", "GKText", "CProcess", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: strict + keyringHeaders),

        .executableTarget(
            name: "gkpass",
            dependencies: [
                "GKPassKit",
                "GateKeeper",
                "TicketStore",
                "CProcess",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict + keyringHeaders,
            linkerSettings: gkpassReleaseLink,
            plugins: ["BuildCommit"]),

        // `gkpass --version` names the git commit of the build (a generated BuildCommit.swift).
        .plugin(name: "BuildCommit", capability: .buildTool()),

        // gkpass-sandbox: a local Passport + chat site + IRCX network (design.md §8). May use GateKeeper, never
        // Passport/TicketStore: it must not share the client's assumptions.
        .target(
            name: "GKPassSandbox",
            dependencies: [
                "GateKeeper",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ],
            swiftSettings: strict),
        .executableTarget(
            name: "gkpass-sandbox",
            dependencies: [
                "GKPassSandbox",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict),

        // In-process throughput of the GateKeeper core (scripts/bench).
        .executableTarget(
            name: "gatekeeper-bench", dependencies: ["GateKeeper"], path: "Benchmarks/GateKeeperBench",
            swiftSettings: strict),

        .testTarget(
            name: "GateKeeperTests", dependencies: ["GateKeeper", .product(name: "Crypto", package: "swift-crypto")], swiftSettings: strict),
        .testTarget(name: "GKTextTests", dependencies: ["GKText"], swiftSettings: strict),
        .testTarget(name: "ShimTests", dependencies: ["CLoader"], swiftSettings: strict + keyringHeaders),
        // Helpers shared by the end-to-end suites: start the real sandbox, run curl, talk raw IRCX.
        .target(name: "GKPassTestSupport", path: "Tests/Support"),
        .testTarget(name: "GKPassSandboxTests", dependencies: ["GKPassSandbox", "GateKeeper", "GKPassTestSupport"]),
        .testTarget(name: "PassportTests", dependencies: ["Passport", "GKText", "CLoader", "GKPassTestSupport"], swiftSettings: keyringHeaders),
        .testTarget(name: "TicketStoreTests", dependencies: ["TicketStore", "CLoader", "GKPassTestSupport"], swiftSettings: keyringHeaders),
        .testTarget(name: "GKPassKitTests", dependencies: ["GKPassKit", "GateKeeper", "Passport", "TicketStore", "GKText"], swiftSettings: strict + keyringHeaders),
        .testTarget(name: "GKPassCLITests", dependencies: ["GateKeeper", "Passport", "GKText", "GKPassTestSupport"], swiftSettings: keyringHeaders),
    ],
    swiftLanguageModes: [.v6]
)

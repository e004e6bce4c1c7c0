// swift-tools-version:6.0
import PackageDescription

// The data path: CLMDB -> LMDB (safe wrapper) -> EventLog (domain-agnostic log)
// -> LeadDomain (events, lifecycle; no I/O) -> LeadEngine (store, ingest, projections)
// -> LeadLedgerCLI -> leadledger (thin @main).
let package = Package(
    name: "LeadLedger",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "leadledger", targets: ["leadledger"]),
        .library(name: "EventLog", targets: ["EventLog"]),
        .library(name: "LeadDomain", targets: ["LeadDomain"]),
        // What the fuzz targets in tools/fuzz (a package of their own, so that a normal build
        // never builds them) test: a package can only depend on another's products.
        .library(name: "LedgerJSON", targets: ["LedgerJSON"]),
        .library(name: "EventTranscoder", targets: ["EventTranscoder"]),
        .library(name: "LeadEngine", targets: ["LeadEngine"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        // The server: Hummingbird 2 on swift-nio, its lifecycle, logs and Prometheus metrics.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        // CSV ingest: a maintained RFC 4180 reader that streams, skips a BOM and keeps line
        // breaks inside quoted cells.
        .package(url: "https://github.com/yaslab/CSV.swift", from: "2.5.2"),
    ],
    targets: [
        // Debian's liblmdb-dev, through pkg-config. Only the LMDB target imports it.
        .systemLibrary(
            name: "CLMDB",
            pkgConfig: "lmdb",
            providers: [.apt(["liblmdb-dev"])]
        ),
        .target(name: "LMDB", dependencies: ["CLMDB"]),
        // Debian's zlib, for gzip request bodies (tracking SDKs send them).
        .systemLibrary(
            name: "CZlib",
            pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]
        ),
        // glibc's malloc.h (mallopt), which the Glibc module leaves out.
        .systemLibrary(name: "CMalloc"),
        // The system calls made outside LMDB (files, thread names and priorities, terminals,
        // the allocator's tuning).
        .target(name: "LedgerSystem", dependencies: ["CMalloc"]),
        // SHA-256 with the x86 SHA extensions, for the log's hash chain (swift-crypto otherwise).
        .target(name: "CSHA256"),
        .target(name: "CByteScan"),
        .target(name: "LedgerJSON"),
        .target(
            name: "EventLog",
            dependencies: ["LMDB", "LedgerSystem", "CSHA256", .product(name: "Crypto", package: "swift-crypto")]
        ),
        // Regular expressions of a common subset as byte automata (ICU's answers, without ICU).
        .target(name: "SimpleRegex"),
        .target(name: "LeadDomain", dependencies: ["LedgerJSON", "SimpleRegex"]),
        // JSONL lines straight to stored records, without a JSON tree (the bulk ingest's parser).
        .target(name: "EventTranscoder", dependencies: ["LeadDomain", "LedgerJSON", "CByteScan"]),
        .target(
            name: "LeadEngine",
            dependencies: [
                "CByteScan", "EventLog", "EventTranscoder", "LeadDomain", "LedgerJSON", "LedgerSystem", "LMDB", "Yams",
                .product(name: "CSV", package: "CSV.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // `leadledger bench`: the engine measured beside a raw-LMDB baseline. The baseline is
        // written against the C API on purpose, so this target imports CLMDB too.
        .target(name: "Bench", dependencies: ["CLMDB", "LMDB", "LedgerSystem", "EventLog", "LeadDomain", "LeadEngine", "Reports"]),
        // Pure functions from projected data (journeys) to report models, and their renderers.
        .target(name: "Reports", dependencies: ["LeadDomain", "LedgerJSON"]),
        // `leadledger serve`: the HTTP API over a store (controllers over small protocols).
        .target(
            name: "LeadServer",
            dependencies: [
                "LeadEngine", "EventLog", "LeadDomain", "LedgerJSON", "LedgerSystem", "Reports", "CZlib",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ]
        ),
        .target(
            name: "LeadLedgerCLI",
            dependencies: [
                "LeadEngine", "LeadServer", "Reports", "Bench", "EventLog", "LeadDomain", "LedgerJSON", "LedgerSystem",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        .executableTarget(
            name: "leadledger",
            dependencies: ["LeadLedgerCLI", "LedgerSystem", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),

        .target(name: "TestSupport", dependencies: ["EventLog", "LeadDomain", "LeadEngine", "LMDB", "LedgerJSON"], path: "Tests/TestSupport"),
        .testTarget(name: "LMDBTests", dependencies: ["LMDB", "TestSupport"]),
        .testTarget(name: "LedgerJSONTests", dependencies: ["LedgerJSON"]),
        .testTarget(name: "EventLogTests", dependencies: ["EventLog", "TestSupport", .product(name: "Crypto", package: "swift-crypto")]),
        .testTarget(
            name: "LeadDomainTests",
            dependencies: ["LeadDomain", "LedgerJSON", "TestSupport", "LeadEngine"]
        ),
        .testTarget(name: "SimpleRegexTests", dependencies: ["SimpleRegex"]),
        .testTarget(
            name: "EventTranscoderTests",
            dependencies: ["EventTranscoder", "LeadDomain", "LeadEngine", "LedgerJSON", "CByteScan", "TestSupport"]
        ),
        .testTarget(
            name: "LeadLedgerCLITests",
            dependencies: ["LeadLedgerCLI", "leadledger", "TestSupport", "EventLog", "LeadDomain", "LedgerJSON", "LeadEngine"]
        ),
        .testTarget(
            name: "LeadServerTests",
            dependencies: [
                "LeadServer", "LeadEngine", "EventLog", "LeadDomain", "LedgerJSON", "TestSupport",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ]
        ),
        .testTarget(name: "ReportsTests", dependencies: ["Reports", "LeadDomain", "LedgerJSON", "TestSupport"]),
        .testTarget(name: "LeadEngineTests", dependencies: ["LeadEngine", "EventTranscoder", "Reports", "TestSupport", "EventLog", "LeadDomain", "LedgerJSON", "LMDB"]),
    ]
)

for target in package.targets where target.type != .system && !["CSHA256", "CByteScan"].contains(target.name) {
    var settings = target.swiftSettings ?? []
    settings.append(.enableUpcomingFeature("ExistentialAny"))
    settings.append(.enableUpcomingFeature("MemberImportVisibility"))
    target.swiftSettings = settings
}

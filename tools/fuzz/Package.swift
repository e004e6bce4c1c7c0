// swift-tools-version:6.0
import PackageDescription

// LeadLedger's libFuzzer targets: one executable per target, built with the fuzzer and
// address sanitizers by `tools/fuzz.sh` (which says how). A package of its own, so that the
// main package's `swift build` and `swift test` never build these and its products carry no
// unsafe flags; it depends on the main package's library products.
let package = Package(
    name: "LeadLedgerFuzz",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "LeadLedger", path: "../.."),
    ],
    targets: [
        .target(name: "FuzzSupport"),
        .executableTarget(
            name: "FuzzTranscoder",
            dependencies: [
                "FuzzSupport",
                .product(name: "EventTranscoder", package: "LeadLedger"),
                .product(name: "LeadDomain", package: "LeadLedger"),
                .product(name: "LedgerJSON", package: "LeadLedger"),
            ]
        ),
        .executableTarget(
            name: "FuzzJSON",
            dependencies: ["FuzzSupport", .product(name: "LedgerJSON", package: "LeadLedger")]
        ),
        .executableTarget(
            name: "FuzzCSV",
            dependencies: [
                "FuzzSupport",
                .product(name: "LeadEngine", package: "LeadLedger"),
                .product(name: "LeadDomain", package: "LeadLedger"),
            ]
        ),
        .executableTarget(
            name: "FuzzRules",
            dependencies: [
                "FuzzSupport",
                .product(name: "LeadEngine", package: "LeadLedger"),
                .product(name: "LeadDomain", package: "LeadLedger"),
                .product(name: "LedgerJSON", package: "LeadLedger"),
            ]
        ),
        .executableTarget(
            name: "FuzzTimestamp",
            dependencies: ["FuzzSupport", .product(name: "LeadDomain", package: "LeadLedger")]
        ),
    ]
)

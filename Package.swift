// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "mlgw-deploy",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "mlgw-deploy", targets: ["mlgw-deploy"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.80.0"),
        .package(url: "https://github.com/apple/swift-atomics", from: "1.2.0"),
        // JWT signatures (RS256, ES256) for the gateway's authorizers.
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        // The feature store's online store and the offline store's queue: SQLite in WAL mode.
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        // A feature group's online store shared through PostgreSQL.
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
    ],
    targets: [
        .target(name: "CShim"),
        // Event patterns, schedule expressions and input transformers: what the bus matches and
        // fires, and what validate checks.
        .target(name: "Events"),
        // Drift statistics (ports of scipy's), SageMaker Model Monitor's files and the reading of
        // captured traffic: what a monitor's run computes, without the host.
        .target(name: "Monitoring", dependencies: ["Events", "EnvironmentAPI"],
                // Runs split their files and features over DispatchQueue.concurrentPerform, each
                // iteration writing only its own slot of a buffer: Swift 5 mode, as Services.
                swiftSettings: [.swiftLanguageMode(.v5)]),
        // Application Auto Scaling's and CloudWatch alarms' rules as pure values: datapoints,
        // alarm states, step and target tracking arithmetic, cooldowns, scheduled actions.
        .target(name: "Scaling", dependencies: ["Events", "EnvironmentAPI"]),
        .target(
            name: "Spec",
            dependencies: ["EnvironmentAPI", "Events", "Monitoring", "Scaling", .product(name: "Yams", package: "Yams")]
        ),
        .target(name: "Reconciler", dependencies: ["Spec", "EnvironmentAPI", "Events"]),
        // A stack as one CloudFormation template: each kind's cloud twin, parameters for what is
        // local, errors and warnings for what has none.
        .target(name: "Export", dependencies: ["Spec", "EnvironmentAPI", "Events"]),
        .target(name: "EnvironmentAPI"),
        .target(
            name: "Services",
            dependencies: [
                "CShim", "EnvironmentAPI", "Events", "Monitoring", "Scaling",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Atomics", package: "swift-atomics"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            // NIO channel handlers live on one event loop each; Swift 5 mode keeps the Sendable
            // checks as warnings here instead of wrapping every handler in NIOLoopBound.
            // Dynamic exclusivity checks on handler properties showed up on the data path's
            // profile; each handler is only ever touched from its own event loop.
            swiftSettings: [.swiftLanguageMode(.v5), .unsafeFlags(["-enforce-exclusivity=unchecked"])]
        ),
        .target(name: "Providers", dependencies: ["Spec", "Reconciler", "EnvironmentAPI", "CShim"]),
        .executableTarget(
            name: "mlgw-deploy",
            dependencies: [
                "Spec", "Reconciler", "Providers", "Services", "Events", "Monitoring", "Export",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // Times predictors without HTTP, for Benchmarks/xgboost_vs_python.py.
        .executableTarget(name: "mlgw-bench", dependencies: ["Services"], path: "Benchmarks/mlgw-bench"),
        // Times the event-pattern matcher against a loop over rules, for Benchmarks/event_rules.sh.
        .executableTarget(name: "mlgw-bench-events", dependencies: ["Events"], path: "Benchmarks/events-bench"),
        .testTarget(name: "ScalingTests", dependencies: ["Scaling", "EnvironmentAPI"]),
        .testTarget(name: "ExportTests", dependencies: ["Export"]),
        .testTarget(name: "SpecTests", dependencies: ["Spec", "EnvironmentAPI"]),
        // The conformance cases recorded against AWS are read from ../shared/reference at test time.
        .testTarget(name: "EventsTests", dependencies: ["Events"], exclude: ["Conformance"]),
        // Statistics checked against values scipy computed (Fixtures/scipy.json, regenerated by
        // Tests/MonitoringTests/make_fixtures.py); file shapes against Model Monitor's own files
        // (Conformance/, copied from the shared reference).
        .testTarget(name: "MonitoringTests", dependencies: ["Monitoring"], exclude: ["make_fixtures.py", "Fixtures", "Conformance"]),
        // Golden files are found through #filePath, so MLGW_RECORD=1 can rewrite them in place.
        .testTarget(name: "ReconcilerTests", dependencies: ["Reconciler", "Spec", "EnvironmentAPI"], exclude: ["Fixtures"]),
        // Across layers: every kind is registered in each (Spec, Providers, the host's services),
        // and observing what a kind's configuration runs gives back the attributes it planned.
        .testTarget(name: "KindTests", dependencies: ["Spec", "Reconciler", "Providers", "Services", "EnvironmentAPI",
                                                      .product(name: "NIOPosix", package: "swift-nio")]),
        .testTarget(
            name: "ServicesTests",
            dependencies: ["Services", "EnvironmentAPI", .product(name: "NIOCore", package: "swift-nio"), .product(name: "Atomics", package: "swift-atomics"),
                           .product(name: "Crypto", package: "swift-crypto"), .product(name: "_CryptoExtras", package: "swift-crypto")]
        ),
    ]
)

// swift-tools-version:6.1
import PackageDescription

// Micro-benchmarks of the WebSocket hot paths, the database drivers and Web Push's cryptography, and the load tools
// faros-openloop and faros-sessionbench (scripts/bench-latency, scripts/bench-sessions), in their own package so that the main package and
// CI never build them: `cd Benchmarks && swift run -c release faros-microbench`.
let package = Package(
    name: "faros-benchmarks",
    platforms: [.macOS(.v14)],
    dependencies: [
        // Named, because a path dependency is otherwise known by its folder's name, which differs
        // between checkouts and worktrees.
        .package(name: "faros", path: ".."),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0"),
    ],
    targets: [
        .executableTarget(
            name: "faros-microbench",
            dependencies: [
                .product(name: "WebSocketCore", package: "faros"),
                .product(name: "ByteCoding", package: "faros"),
            ],
            swiftSettings: [
                .enableUpcomingFeature("ExistentialAny"),
                .enableUpcomingFeature("InternalImportsByDefault"),
            ]
        ),
        .executableTarget(
            name: "faros-driverbench",
            dependencies: [
                .product(name: "SQLiteDriver", package: "faros"),
                .product(name: "PostgresDriver", package: "faros"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: [
                .enableUpcomingFeature("ExistentialAny"),
                .enableUpcomingFeature("InternalImportsByDefault"),
            ]
        ),
        .executableTarget(
            name: "faros-pushbench",
            dependencies: [
                .product(name: "WebPush", package: "faros"),
            ],
            swiftSettings: [
                .enableUpcomingFeature("ExistentialAny"),
                .enableUpcomingFeature("InternalImportsByDefault"),
            ]
        ),
        // The WebSocket client, latency histogram and process probes that faros-openloop and
        // faros-sessionbench share (NIO's own client upgrader and frame codec, no framing of ours).
        .target(
            name: "BenchClient",
            dependencies: [
                .product(name: "JSON", package: "faros"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ],
            swiftSettings: [
                .enableUpcomingFeature("ExistentialAny"),
                .enableUpcomingFeature("InternalImportsByDefault"),
            ]
        ),
        // Open-loop call latency (issue 23): requests on a fixed schedule, latency from the due time.
        .executableTarget(
            name: "faros-openloop",
            dependencies: [
                "BenchClient",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: [
                .enableUpcomingFeature("ExistentialAny"),
                .enableUpcomingFeature("InternalImportsByDefault"),
            ]
        ),
        // Signed-in, subscribed sessions (issue 23): opens per second and server memory per session.
        .executableTarget(
            name: "faros-sessionbench",
            dependencies: [
                "BenchClient",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: [
                .enableUpcomingFeature("ExistentialAny"),
                .enableUpcomingFeature("InternalImportsByDefault"),
            ]
        ),
    ]
)

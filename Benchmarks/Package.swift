// swift-tools-version:6.1
import PackageDescription

// Micro-benchmarks of the WebSocket hot paths, in their own package so that the main package and
// CI never build them: `cd Benchmarks && swift run -c release faros-microbench`.
let package = Package(
    name: "faros-benchmarks",
    platforms: [.macOS(.v14)],
    dependencies: [
        // Named, because a path dependency is otherwise known by its folder's name, which differs
        // between checkouts and worktrees.
        .package(name: "faros", path: ".."),
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
    ]
)

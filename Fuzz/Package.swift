// swift-tools-version:6.1
import PackageDescription

// libFuzzer targets for Faros's decoders, in their own package so that the main build and
// `swift test` never build them. One executable holds every target (FAROS_FUZZ_TARGET picks
// one), so there is a single instrumented link. Build and run with scripts/fuzz, which passes
// `-sanitize=fuzzer,address` to every module (NIO and Faros included) so that coverage and
// ASan reach the code under test.
let package = Package(
    name: "faros-fuzz",
    platforms: [.macOS(.v15)],
    dependencies: [
        // Named, because a path dependency is otherwise known by its folder's name, which differs
        // between checkouts and worktrees.
        .package(name: "faros", path: ".."),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
    ],
    targets: [
        .executableTarget(
            name: "faros-fuzz",
            dependencies: [
                .product(name: "WebSocketCore", package: "faros"),
                .product(name: "ByteCoding", package: "faros"),
                .product(name: "JSON", package: "faros"),
                .product(name: "JSONRPC", package: "faros"),
                .product(name: "HTTPEdge", package: "faros"),
                .product(name: "RESTBridge", package: "faros"),
                .product(name: "Credentials", package: "faros"),
                .product(name: "Handlers", package: "faros"),
                .product(name: "Storage", package: "faros"),
                .product(name: "PubSub", package: "faros"),
                .product(name: "SMTPMail", package: "faros"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ],
            swiftSettings: [
                .enableUpcomingFeature("ExistentialAny"),
                .enableUpcomingFeature("InternalImportsByDefault"),
                // libFuzzer supplies `main`.
                .unsafeFlags(["-parse-as-library"]),
            ]
        ),
    ]
)

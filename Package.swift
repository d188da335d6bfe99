// swift-tools-version:6.1
import PackageDescription

let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "faros",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "faros", targets: ["Faros"]),
        // Exposed so the separate Benchmarks/ package can measure the hot paths.
        .library(name: "WebSocketCore", targets: ["WebSocketCore"]),
        .library(name: "SQLiteDriver", targets: ["SQLiteDriver"]),
        .library(name: "PostgresDriver", targets: ["PostgresDriver"]),
        .library(name: "ByteCoding", targets: ["ByteCoding"]),
        // Exposed so the separate Fuzz/ package can feed its decoders.
        .library(name: "JSON", targets: ["JSON"]),
        .library(name: "JSONRPC", targets: ["JSONRPC"]),
        .library(name: "HTTPEdge", targets: ["HTTPEdge"]),
        .library(name: "RESTBridge", targets: ["RESTBridge"]),
        .library(name: "Credentials", targets: ["Credentials"]),
        .library(name: "Handlers", targets: ["Handlers"]),
        .library(name: "Storage", targets: ["Storage"]),
        .library(name: "PubSub", targets: ["PubSub"]),
        .library(name: "SMTPMail", targets: ["SMTPMail"]),
        .library(name: "WebPush", targets: ["WebPush"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/vapor/multipart-kit.git", from: "4.7.1"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
    ],
    targets: [
        // C libraries, each behind one system-library target; their pointers stay in one Swift file.
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "COpenSSL", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(name: "CLibPQ", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
        .systemLibrary(name: "CCrypt", pkgConfig: "libcrypt", providers: [.apt(["libcrypt-dev"])]),
        .systemLibrary(name: "CHiredis", pkgConfig: "hiredis", providers: [.apt(["libhiredis-dev"])]),
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),

        // Byte encodings and digests, once: hex, base64, base64url, percent-encoding, SHA-1/SHA-256
        // and HMAC-SHA256 over libcrypto (whose pointers stay in Digest.swift).
        .target(name: "ByteCoding", dependencies: ["COpenSSL"], swiftSettings: strict),

        // RFC 6455 / RFC 7692: frames, masking, UTF-8, close codes, handshake, permessage-deflate. No sockets.
        .target(
            name: "WebSocketCore",
            dependencies: [
                "CZlib", "ByteCoding",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        // RFC 8259 JSON with no I/O: values, a strict parser, a writer, Codable bridging.
        .target(name: "JSON", dependencies: ["ByteCoding"], swiftSettings: strict),
        // JSON-RPC 2.0 with no I/O: requests, errors, params decoding, the method registry and dispatcher.
        .target(name: "JSONRPC", dependencies: ["JSON"], swiftSettings: strict),
        // `protocol/openrpc.json`, embedded in the binary at build time (the file is linked in).
        .target(
            name: "ProtocolDocument",
            resources: [.embedInCode("openrpc.json")],
            swiftSettings: strict
        ),
        // The HTTP front: the listener, the HTTP/1.1 pipeline, the route table (upgrade paths and
        // the responder for everything else), timeouts and graceful shutdown, error answers.
        .target(
            name: "HTTPEdge",
            dependencies: [
                "JSON", "JSONRPC",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        // The browser side, served from memory: the app at `/`, web/ under a versioned root, the
        // client library at /client/; gzipped once at start-up.
        .target(
            name: "WebApp",
            dependencies: [
                "HTTPEdge", "JSONRPC", "CZlib",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            resources: [.embedInCode("Embedded")],
            swiftSettings: strict
        ),
        // The JSON-RPC transport under the edge: the WebSocket endpoints, sessions, the engine.
        .target(
            name: "RPCServer",
            dependencies: [
                "WebSocketCore", "JSON", "JSONRPC", "Handlers", "HTTPEdge", "ProtocolDocument", "ByteCoding", "SystemTime",
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        // libcurl, once: the process-wide init, one easy handle's life cycle, typed options,
        // Swift closures for its callbacks and a CurlError. curl's pointers stay in here.
        .target(name: "CurlClient", dependencies: ["CCurl"], swiftSettings: strict),
        // Where file bytes live: local disk (temp file, fsync, rename) or S3 over libcurl with SigV4.
        // Every blocking call runs on a bounded NIOThreadPool.
        .target(
            name: "BlobStore",
            dependencies: [
                "CurlClient", "ByteCoding", "Credentials", "Handlers",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        // Outbound mail: one rendered RFC 5322 message per SMTP exchange (STARTTLS, AUTH),
        // over libcurl, on a thread pool.
        .target(
            name: "SMTPMail",
            dependencies: [
                "CurlClient", "ByteCoding", "Handlers", "Credentials",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        // Web Push (RFC 8030/8291/8292): P-256, ECDH, ES256 and AES-128-GCM over libcrypto (whose
        // pointers stay in P256.swift), the aes128gcm message encryption, the VAPID key and
        // signer, and the PushTransport posting over libcurl on a thread pool.
        .target(
            name: "WebPush",
            dependencies: [
                "COpenSSL", "CurlClient", "ByteCoding", "Credentials", "Handlers", "JSON",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        // The HTTP routes beside /rpc, under the edge: files, avatars, the mail-link pages,
        // /health, /ready, /metrics, /openrpc.json. It only translates HTTP to the domain's calls
        // (same guards as JSON-RPC).
        .target(
            name: "RESTBridge",
            dependencies: [
                "Handlers", "JSON", "JSONRPC", "BlobStore", "Credentials", "ByteCoding", "HTTPEdge", "ProtocolDocument", "WebSocketCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "MultipartKit", package: "multipart-kit"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: strict
        ),
        // SQLite in WAL mode: one serialized writer, a pool of readers, every C call on a thread pool.
        .target(
            name: "SQLiteDriver",
            dependencies: [
                "CSQLite",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        // PostgreSQL over libpq: connections, prepared statements, a bounded pool, LISTEN/NOTIFY.
        .target(
            name: "PostgresDriver",
            dependencies: [
                "CLibPQ", "ByteCoding",
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        // Password hashing (yescrypt), HS256 session tokens, the JWT secret file, one-time tokens.
        .target(
            name: "Credentials",
            dependencies: [
                "COpenSSL", "CCrypt", "JSON", "ByteCoding", "Handlers",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        // The domain: accounts, tasks, validation, permission guards, the Store protocol. No sockets, no SQL.
        .target(
            name: "Handlers",
            dependencies: [
                "JSON", "JSONRPC", "ByteCoding",
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        // The host's time facilities behind the domain's ports: the real-time clock and the
        // compiled zone database (/usr/share/zoneinfo).
        .target(name: "SystemTime", dependencies: ["Handlers"], swiftSettings: strict),
        // The Store on SQLite or PostgreSQL: one SQL implementation, schema migrations.
        .target(
            name: "Storage",
            dependencies: [
                "Handlers", "JSON", "SQLiteDriver", "PostgresDriver", "SystemTime",
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        // The event bus and rate limiter behind the domain's ports: in-process, or Redis over hiredis.
        .target(
            name: "PubSub",
            dependencies: [
                "CHiredis", "Handlers", "ByteCoding",
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        // `faros import faros`: a FAROS deployment (its PostgreSQL and uploads) brought into the
        // configured store and file store, in resumable batches (docs/import.md).
        .target(
            name: "Importer",
            dependencies: [
                "Handlers", "Storage", "PostgresDriver", "BlobStore", "RESTBridge", "Credentials", "JSON", "JSONRPC", "SystemTime",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        // The executable: settings, logging, wiring, lifecycle.
        .executableTarget(
            name: "Faros",
            dependencies: [
                "HTTPEdge", "RPCServer", "JSON", "JSONRPC", "Handlers", "Storage", "Credentials", "PubSub", "RESTBridge", "BlobStore", "SMTPMail",
                "WebSocketCore", "SystemTime", "WebApp", "WebPush", "Importer",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),

        .testTarget(
            name: "WebSocketCoreTests",
            dependencies: [
                "WebSocketCore", "ByteCoding",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        .testTarget(name: "JSONTests", dependencies: ["JSON"]),
        .testTarget(name: "JSONRPCTests", dependencies: ["JSON", "JSONRPC"]),
        // RFC 4648, RFC 3986, FIPS 180-4 and RFC 4231 vectors for the byte encodings and digests.
        .testTarget(name: "ByteCodingTests", dependencies: ["ByteCoding"]),
        .testTarget(
            name: "SQLiteDriverTests",
            dependencies: [
                "SQLiteDriver",
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "PostgresDriverTests",
            dependencies: [
                "PostgresDriver",
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // What tests share: child processes without Foundation's `Process`.
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(
            name: "PubSubTests",
            dependencies: [
                "PubSub", "Handlers", "TestSupport",
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "CredentialsTests",
            dependencies: ["Credentials", "ByteCoding", "Handlers", .product(name: "NIOPosix", package: "swift-nio")]
        ),
        // A fresh store on SQLite or PostgreSQL per test, for the Store contract and handler tests.
        .target(
            name: "StoreTestSupport",
            dependencies: [
                "Handlers", "Storage",
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/StoreTestSupport"
        ),
        // Contract tests: the Store, on SQLite and on PostgreSQL alike.
        .testTarget(
            name: "StorageTests",
            dependencies: [
                "Storage", "Handlers", "StoreTestSupport", "PostgresDriver", "JSON", "JSONRPC",
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The methods, with test doubles for the ports and a real store on SQLite and PostgreSQL.
        .testTarget(
            name: "HandlersTests",
            dependencies: [
                "Handlers", "Storage", "StoreTestSupport", "JSON", "JSONRPC", "Credentials", "SystemTime",
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // FAROS rows by Faros's rules: taken, normalized, or refused with a reason.
        .testTarget(name: "ImporterTests", dependencies: ["Importer", "Handlers", "JSON"]),
        .testTarget(
            name: "FarosTests",
            dependencies: ["Faros", "RPCServer", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        // SMTP over libcurl against a real SMTP server we did not write (aiosmtpd) on loopback.
        .testTarget(
            name: "SMTPMailTests",
            dependencies: [
                "SMTPMail", "Handlers", "TestSupport",
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Web Push: RFC 5869, RFC 6979 and RFC 8291 vectors, the VAPID key and token, and the
        // transport against a loopback push service (scripts/e2e/push_service.py, http_ece).
        .testTarget(
            name: "WebPushTests",
            dependencies: [
                "WebPush", "Handlers", "ByteCoding", "JSON", "CurlClient", "TestSupport",
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The real-time clock and the system's zone database behind the domain's ports.
        .testTarget(name: "SystemTimeTests", dependencies: ["SystemTime", "Handlers"]),
        // The REST bridge: its parsers (sniffing, Range, Content-Disposition, multipart, routes) and its
        // responder behind the edge over a real SQLite store.
        .testTarget(
            name: "RESTBridgeTests",
            dependencies: [
                "RESTBridge", "HTTPEdge", "Handlers", "BlobStore", "Credentials", "SystemTime", "StoreTestSupport",
                "ProtocolDocument", "JSON", "JSONRPC", "WebSocketCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The curl client against a real HTTP server (python3 -m http.server) on loopback.
        .testTarget(name: "CurlClientTests", dependencies: ["CurlClient", "TestSupport"]),
        // The blob stores on local disk and against a real S3-compatible server (moto) on loopback.
        .testTarget(
            name: "BlobStoreTests",
            dependencies: [
                "BlobStore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The HTTP edge on an EmbeddedChannel: routing, keep-alive, timeouts, close deadlines, shutdown.
        .testTarget(
            name: "HTTPEdgeTests",
            dependencies: [
                "HTTPEdge", "JSONRPC",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "WebAppTests",
            dependencies: [
                "WebApp", "HTTPEdge",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "RPCServerTests",
            dependencies: [
                "RPCServer", "HTTPEdge", "ProtocolDocument", "WebSocketCore", "JSON", "JSONRPC", "Handlers",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // End to end against a running server, through NIO's own WebSocket client codec (not ours).
        .testTarget(
            name: "EndToEndTests",
            dependencies: [
                "HTTPEdge", "RPCServer", "JSON", "JSONRPC", "Handlers", "Storage", "Credentials", "PubSub", "SystemTime",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
    ]
)

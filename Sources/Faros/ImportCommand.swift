import ArgumentParser
import BlobStore
import Importer
import Logging
import NIOPosix
import Storage

#if canImport(Glibc)
import Glibc
#endif

/// `faros import`: brings another system's data into this Faros.
struct ImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Bring another system's data into Faros.",
        subcommands: [ImportFarosCommand.self]
    )
}

/// `faros import faros`: a FAROS deployment (its PostgreSQL database and its uploads), accounts,
/// passwords and history included, into the store and file store configured as for `serve`.
struct ImportFarosCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "faros",
        abstract: "Import a FAROS deployment: accounts (passwords keep working), tasks, shares, comments, files, preferences, history.",
        discussion: """
            Resumable and idempotent: a second run imports nothing twice, and a run cut off \
            halfway finishes on the next. Rows Faros cannot take are skipped and listed with \
            their reason. Exit status 0 when the import completed (skipped rows included), 1 \
            when it failed (the database keeps every batch committed before the failure).
            """
    )

    @Option(help: "libpq URL of the FAROS database (postgres://…).")
    var from: String

    @Option(help: "The schema FAROS's tables are in.")
    var schema = "faros"

    @Option(help: "FAROS's upload directory (task_<id>_<uuid>.<ext> files and avatars/).")
    var filesDir: String?

    @Option(help: "FAROS's uploads in S3: s3://bucket[/prefix], read with the --s3-* endpoint and credentials.")
    var filesS3: String?

    @Flag(help: "Report what would be imported and change nothing.")
    var dryRun = false

    @Option(help: "Also write the summary as JSON to this file.")
    var report: String?

    @Option(help: "Progress on standard error: auto (a bar on a terminal, lines otherwise), bar, lines (one per batch) or none.")
    var progress: ImportProgress.Mode = .auto

    @Option(help: "Source rows per batch; each batch commits on its own.")
    var batchSize = 1000

    @OptionGroup var storage: StorageOptions

    @OptionGroup var s3: S3Options

    @Option(help: "Largest file attachment imported; larger ones are skipped. (env: FAROS_MAX_UPLOAD_BYTES; default: 26214400, 25 MiB)")
    var maxUploadBytes: String?

    func validate() throws {
        guard (filesDir == nil) != (filesS3 == nil) else {
            throw ValidationError("give exactly one of --files-dir and --files-s3")
        }
        guard (1...100_000).contains(batchSize) else { throw ValidationError("--batch-size: expected 1-100000") }
        if let filesS3 { _ = try Self.bucketAndPrefix(filesS3) }
    }

    static func bucketAndPrefix(_ url: String) throws -> (bucket: String, prefix: String) {
        guard url.hasPrefix("s3://") else { throw ValidationError("--files-s3: expected s3://bucket[/prefix], got '\(url)'") }
        let rest = url.dropFirst(5)
        let bucket = rest.prefix { $0 != "/" }
        guard !bucket.isEmpty else { throw ValidationError("--files-s3: no bucket in '\(url)'") }
        var prefix = String(rest.dropFirst(bucket.count))
        while prefix.hasPrefix("/") { prefix.removeFirst() }
        while prefix.hasSuffix("/") { prefix.removeLast() }
        return (String(bucket), prefix)
    }

    func run() async throws {
        let environment = Environment.current
        let settings = try StorageSettings(options: storage, environment: environment)
        settings.bootstrapLogging()
        let logger = Logger(label: "faros")
        let reader = SettingReader(environment: environment)
        let s3Settings = try Settings.S3Settings(s3, reader: reader, bucketRequired: filesS3 == nil)
        let maxUpload = try reader.bytes(maxUploadBytes, "FAROS_MAX_UPLOAD_BYTES", range: 1...(1 << 40)).map(Int64.init) ?? 25 << 20
        if filesS3 != nil, s3Settings == nil {
            throw ValidationError("--files-s3 needs the S3 endpoint and credentials (--s3-endpoint, --s3-access-key-id, --s3-secret-access-key)")
        }

        let threadPool = NIOThreadPool(numberOfThreads: 4)
        threadPool.start()
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        var failed = false
        do {
            let store = try await StoreFactory.open(settings.store, migrations: Migrations.all, threadPool: threadPool, logger: logger)
            do {
                let dataDirectory = settings.store.dataDirectory
                let blobs: any BlobStore
                if let s3 = s3Settings, !s3.bucket.isEmpty {
                    blobs = try S3BlobStore(configuration: Self.configuration(s3, bucket: s3.bucket, spool: dataDirectory + "/spool"), threadPool: threadPool)
                } else {
                    blobs = try LocalBlobStore(directory: dataDirectory + "/files", threadPool: threadPool)
                }
                let files: FarosImporter.Files
                if let filesS3, let s3 = s3Settings {
                    let (bucket, prefix) = try Self.bucketAndPrefix(filesS3)
                    let reader = try S3BlobStore(configuration: Self.configuration(s3, bucket: bucket, spool: dataDirectory + "/spool"), threadPool: threadPool)
                    files = .bucket(reader, bucket: bucket, prefix: prefix)
                } else {
                    files = .directory(filesDir ?? ".")
                }
                var options = FarosImporter.Options(sourceURL: from, maxUploadBytes: maxUpload)
                options.schema = schema
                options.batchSize = batchSize
                options.dryRun = dryRun
                let importer = FarosImporter(
                    options: options, store: store, blobs: blobs, files: files, threadPool: threadPool,
                    eventLoop: group.next(), progress: ImportProgress(mode: progress), logger: logger
                )
                let summary = try await importer.run()
                print(summary.text())
                if let report { try Self.write(summary.json(), to: report) }
            } catch {
                logger.critical("Import failed", metadata: ["error": "\(error)"])
                ImportProgress.emit("faros import: failed: \(error)\n")
                failed = true
            }
            await store.close()
        } catch {
            logger.critical("Import failed", metadata: ["error": "\(error)"])
            ImportProgress.emit("faros import: failed: \(error)\n")
            failed = true
        }
        try? await group.shutdownGracefully()
        try? await threadPool.shutdownGracefully()
        if failed { throw ExitCode.failure }
    }

    static func configuration(_ s3: Settings.S3Settings, bucket: String, spool: String) -> S3Configuration {
        S3Configuration(
            endpoint: s3.endpoint, region: s3.region, bucket: bucket, accessKeyID: s3.accessKeyID,
            secretAccessKey: s3.secretAccessKey, pathStyle: s3.pathStyle, spoolDirectory: spool
        )
    }

    static func write(_ bytes: [UInt8], to path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw ValidationError("--report: cannot open \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, bytes.count - offset) }
            guard written > 0 else { throw ValidationError("--report: cannot write \(path)") }
            offset += written
        }
    }
}

extension ImportProgress.Mode: ExpressibleByArgument {}

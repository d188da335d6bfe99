package import BlobStore
import Handlers
import JSON
package import Logging
package import NIOCore
package import NIOPosix
import RESTBridge
package import Storage
import SystemTime

/// `faros import faros`: brings a FAROS deployment into the configured Faros store and file
/// store (docs/import.md).
///
/// Kind by kind (``ImportKind``), in source id order, one batch at a time: read a batch from
/// FAROS (the next one is read while this one is written), check and map each row by Faros's
/// rules (``FarosRules``), resolve its references through `import_map`, copy its files, and
/// write the rows and their map rows in one transaction. So memory holds one batch, a second
/// run starts where the first committed, and nothing is imported twice.
///
/// A dry run does all of that except writing: references to rows it would have imported
/// resolve through an in-memory map instead.
package final class FarosImporter: @unchecked Sendable {
    package struct Options: Sendable {
        package var sourceURL: String
        package var schema: String = "faros"
        package var batchSize: Int = 1000
        package var dryRun: Bool = false
        /// The file store's limit on a task file (`FAROS_MAX_UPLOAD_BYTES`).
        package var maxUploadBytes: Int64

        package init(sourceURL: String, maxUploadBytes: Int64) {
            self.sourceURL = sourceURL
            self.maxUploadBytes = maxUploadBytes
        }
    }

    /// Where FAROS's uploads are.
    package enum Files: Sendable {
        case directory(String)
        /// A bucket and key prefix read through this S3 store's endpoint and credentials.
        case bucket(S3BlobStore, bucket: String, prefix: String)
    }

    private let options: Options
    private let store: SQLStore
    private let blobs: any BlobStore
    private let files: any SourceFiles
    private let threadPool: NIOThreadPool
    private let eventLoop: any EventLoop
    private let progress: ImportProgress
    private let logger: Logger

    private var source: FarosSource!
    private var target: ImportTarget!
    private var summary = ImportSummary()
    /// A dry run's stand-in for `import_map`: what it would have written, by kind and source id.
    private var dryMap: [ImportKind: [Int64: ImportMapEntry]] = [:]
    private var dryNextID: Int64 = 0
    /// Folded usernames and addresses this run has given to accounts (a dry run writes none,
    /// and a batch checks the store only for what earlier batches committed).
    private var claimedUsernames: Set<String> = []
    private var claimedEmails: Set<String> = []

    package init(
        options: Options, store: SQLStore, blobs: any BlobStore, files: Files, threadPool: NIOThreadPool,
        eventLoop: any EventLoop, progress: ImportProgress, logger: Logger
    ) {
        self.options = options
        self.store = store
        self.blobs = blobs
        switch files {
        case .directory(let root): self.files = DirectoryFiles(root: root, threadPool: threadPool)
        case .bucket(let s3, let bucket, let prefix): self.files = BucketFiles(store: s3, bucket: bucket, prefix: prefix)
        }
        self.threadPool = threadPool
        self.eventLoop = eventLoop
        self.progress = progress
        self.logger = logger
    }

    package func run() async throws -> ImportSummary {
        let started = ContinuousClock.now
        source = try await FarosSource.open(url: options.sourceURL, schema: options.schema, threadPool: threadPool, logger: logger)
        do {
            let summary = try await importEverything(started: started)
            await source.close()
            return summary
        } catch {
            await source.close()
            throw error
        }
    }

    private func importEverything(started: ContinuousClock.Instant) async throws -> ImportSummary {
        target = ImportTarget(store: store, source: source.name)
        summary.source = source.name
        summary.dryRun = options.dryRun
        let earlier = try await target.tallies()
        for kind in ImportKind.allCases {
            summary.counts[kind, default: ImportSummary.Tally()].existing = earlier[kind.rawValue]?[.imported] ?? 0
        }
        if !options.dryRun {
            try await removeOrphanedBlobs()
            try await target.prepareForBulkWrites()
        }
        let totals = try await source.totals()
        progress.start(totals: totals)
        for kind in ImportKind.allCases {
            try await importAll(kind)
            progress.finish(kind)
        }
        if options.dryRun {
            summary.notes = Array(dryNotes.prefix(ImportSummary.listedNotes))
        } else {
            summary.notes = try await target.notes(limit: ImportSummary.listedNotes).map {
                ImportSummary.Note(kind: $0.kind, sourceID: $0.sourceID, skipped: $0.outcome == .skipped, reason: $0.note)
            }
            let after = try await target.tallies()
            for kind in ImportKind.allCases {
                summary.counts[kind, default: ImportSummary.Tally()].skipped = after[kind.rawValue]?[.skipped] ?? 0
            }
        }
        summary.seconds = Self.seconds(ContinuousClock.now - started)
        progress.end()
        return summary
    }

    private var dryNotes: [ImportSummary.Note] = []
    /// Stands in for a time FAROS left NULL.
    private let importTime = SystemClock.now()

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    /// Blobs an earlier run wrote for a batch that never committed.
    private func removeOrphanedBlobs() async throws {
        let orphans = try await target.orphanedPendingBlobs()
        guard !orphans.isEmpty else { return }
        for key in orphans { try await blobs.delete(key: key) }
        try await target.forgetPendingBlobs(orphans)
        logger.info("Removed blobs of an interrupted import", metadata: ["count": "\(orphans.count)"])
    }

    // MARK: Batches

    private func importAll(_ kind: ImportKind) async throws {
        let source = self.source!
        let limit = options.batchSize
        var cursor = try await target.cursor(kind: kind.rawValue)
        let first = cursor
        var next = Task { [source] in try await source.batch(kind, after: first, limit: limit) }
        while true {
            let rows = try await next.value
            guard let last = rows.last else { break }
            cursor = last.id
            if rows.count == limit {
                let after = cursor
                next = Task { [source] in try await source.batch(kind, after: after, limit: limit) }
            } else {
                next = Task { [] }
            }
            let planned = try await plan(kind, rows)
            let outcomes: [String?]
            if options.dryRun {
                outcomes = planned.map { row in
                    if case .skip(_, _, let reason) = row { return reason }
                    return nil
                }
                recordDry(kind, planned)
            } else {
                outcomes = try await target.write(planned, kind: kind.rawValue, conflictReason: kind.conflictReason)
            }
            var tally = summary.counts[kind, default: ImportSummary.Tally()]
            for (row, outcome) in zip(planned, outcomes) {
                if outcome == nil {
                    tally.imported += 1
                    summary.rows += 1
                    countFiles(row)
                } else if options.dryRun {
                    tally.skipped += 1
                }
            }
            summary.counts[kind] = tally
            progress.advance(kind, by: rows.count, rows: summary.rows)
        }
    }

    private func countFiles(_ row: ImportRow) {
        switch row {
        case .file(_, let file):
            summary.filesCopied += 1
            summary.fileBytes += file.size
        case .user(_, let user, _):
            if let avatar = user.avatar {
                summary.avatarsCopied += 1
                summary.avatarBytes += avatar.size
            }
        default:
            break
        }
    }

    private func recordDry(_ kind: ImportKind, _ rows: [ImportRow]) {
        for row in rows {
            switch row {
            case .skip(let skippedKind, let id, let reason):
                dryMap[ImportKind(rawValue: skippedKind) ?? kind, default: [:]][id] = ImportMapEntry(farosID: nil, outcome: .skipped, note: reason)
                dryNotes.append(ImportSummary.Note(kind: skippedKind, sourceID: id, skipped: true, reason: reason))
            case .user(let id, _, let note), .task(let id, _, let note):
                dryMap[kind, default: [:]][id] = ImportMapEntry(farosID: nextDryID(), outcome: .imported, note: note)
                if let note { dryNotes.append(ImportSummary.Note(kind: kind.rawValue, sourceID: id, skipped: false, reason: note)) }
            case .share(let id, _), .comment(let id, _), .file(let id, _), .preferences(let id, _), .activity(let id, _):
                dryMap[kind, default: [:]][id] = ImportMapEntry(farosID: nextDryID(), outcome: .imported, note: nil)
            }
        }
    }

    private func nextDryID() -> Int64 {
        dryNextID += 1
        return dryNextID
    }

    /// The map's entries for `ids` of `kind`: the store's, and in a dry run its own.
    private func resolve(_ kind: ImportKind, _ ids: some Sequence<Int64>) async throws -> [Int64: ImportMapEntry] {
        let wanted = Set(ids)
        var found = try await target.lookup(kind: kind.rawValue, sourceIDs: wanted)
        if options.dryRun, let overlay = dryMap[kind] {
            for id in wanted where found[id] == nil { found[id] = overlay[id] }
        }
        return found
    }

    /// Ids set aside for rows FAROS deleted whose history remains.
    private func reserve(_ kind: ImportKind, _ ids: Set<Int64>) async throws -> [Int64: Int64] {
        guard !ids.isEmpty else { return [:] }
        if options.dryRun {
            var reserved: [Int64: Int64] = [:]
            for id in ids {
                if let entry = dryMap[kind]?[id], let farosID = entry.farosID { reserved[id] = farosID; continue }
                let farosID = nextDryID()
                dryMap[kind, default: [:]][id] = ImportMapEntry(farosID: farosID, outcome: .reserved, note: nil)
                reserved[id] = farosID
            }
            return reserved
        }
        return try await target.reserve(kind: kind.rawValue, sourceIDs: Array(ids).sorted())
    }

    /// Why a reference to `entry` cannot be followed, or nil with its Faros id.
    private static func follow(_ entry: ImportMapEntry?, what: String, sourceID: Int64?) -> Result<Int64, FarosRules.Refused> {
        guard let sourceID else { return .failure(FarosRules.Refused(reason: "it names no \(what)")) }
        guard let entry else { return .failure(FarosRules.Refused(reason: "its \(what) \(sourceID) does not exist in FAROS")) }
        guard entry.outcome != .skipped, let id = entry.farosID else {
            return .failure(FarosRules.Refused(reason: "its \(what) \(sourceID) was not imported"))
        }
        return .success(id)
    }

    private static func time(_ ms: Int64?, or fallback: Timestamp) -> Timestamp {
        ms.map(Timestamp.init(milliseconds:)) ?? fallback
    }

    // MARK: Planning, kind by kind

    private func plan(_ kind: ImportKind, _ rows: [SourceRow]) async throws -> [ImportRow] {
        switch kind {
        case .user: try await planUsers(rows)
        case .preferences: try await planPreferences(rows)
        case .task: try await planTasks(rows)
        case .share: try await planShares(rows)
        case .comment: try await planComments(rows)
        case .file: try await planFiles(rows)
        case .activity: try await planActivity(rows)
        }
    }

    /// Columns: id, username, email, hashed_password, created, avatar_url, verified.
    private func planUsers(_ rows: [SourceRow]) async throws -> [ImportRow] {
        var accounts: [Int64: (username: String, email: String, hash: String)] = [:]
        var planned: [ImportRow] = []
        for row in rows {
            do {
                accounts[row.id] = try FarosRules.account(username: row[1], email: row[2], hash: row[3])
            } catch {
                planned.append(.skip(kind: "user", sourceID: row.id, reason: error.reason))
            }
        }
        let taken = try await target.takenAccounts(
            usernames: accounts.values.map { TextRules.fold($0.username) }, emails: accounts.values.map(\.email))
        for row in rows {
            guard let account = accounts[row.id] else { continue }
            let folded = TextRules.fold(account.username)
            if taken.usernames.contains(folded) || claimedUsernames.contains(folded) {
                planned.append(.skip(kind: "user", sourceID: row.id, reason: "username '\(account.username)' is taken (usernames are compared ignoring case)"))
                continue
            }
            if taken.emails.contains(account.email) || claimedEmails.contains(account.email) {
                planned.append(.skip(kind: "user", sourceID: row.id, reason: "address '\(row[2] ?? "")' is already used by another account (addresses are compared ignoring case)"))
                continue
            }
            claimedUsernames.insert(folded)
            claimedEmails.insert(account.email)
            var notes: [String] = []
            if account.username != row[1] { notes.append("white space around the username trimmed") }
            if account.email != row[2] { notes.append("address lower-cased") }
            var avatar: AvatarRecord?
            if let url = row[5] {
                if let path = FarosRules.avatarPath(userID: row.id, url: url) {
                    switch try await copy(path, allowed: Domain.avatarTypes, maxBytes: Int64(Domain.maxAvatarBytes)) {
                    case .copied(let key, let type, let size):
                        avatar = AvatarRecord(storageKey: key ?? "dry-run", contentType: type, size: size, etag: "\"\(key ?? "dry-run")\"")
                    case .refused(let reason):
                        notes.append("avatar not imported: \(reason)")
                    }
                } else {
                    notes.append("avatar not imported: its URL '\(url)' names no FAROS avatar file")
                }
            }
            let createdAt = Self.time(row.int(4), or: importTime)
            if row.int(4) == nil { notes.append("no creation time in FAROS: the import's time used") }
            planned.append(.user(
                sourceID: row.id,
                ImportedUser(username: account.username, email: account.email, emailVerified: row.bool(6) ?? false,
                             passwordHash: account.hash, createdAt: createdAt, avatar: avatar),
                note: notes.isEmpty ? nil : notes.joined(separator: "; ")
            ))
        }
        return planned.sorted { Self.sourceID($0) < Self.sourceID($1) }
    }

    private static func sourceID(_ row: ImportRow) -> Int64 {
        switch row {
        case .user(let id, _, _), .task(let id, _, _), .share(let id, _), .comment(let id, _), .file(let id, _),
             .preferences(let id, _), .activity(let id, _), .skip(_, let id, _):
            id
        }
    }

    /// Columns: user_id, email_enabled, task_shared_with_me, task_completed, comment_on_my_task, updated.
    private func planPreferences(_ rows: [SourceRow]) async throws -> [ImportRow] {
        let users = try await resolve(.user, rows.map(\.id))
        return rows.map { row in
            switch Self.follow(users[row.id], what: "account", sourceID: row.id) {
            case .failure(let refused):
                return .skip(kind: "preferences", sourceID: row.id, reason: refused.reason)
            case .success(let userID):
                // FAROS's defaults for what it left NULL; its `task_due_soon` had no sender.
                return .preferences(sourceID: row.id, ImportedPreferences(
                    userID: userID, emailEnabled: row.bool(1) ?? true, taskShared: row.bool(2) ?? true,
                    taskCompleted: row.bool(3) ?? false, commentAdded: row.bool(4) ?? true,
                    updatedAt: Self.time(row.int(5), or: importTime)))
            }
        }
    }

    /// Columns: id, user_id, title, description, completed, priority, created, due_date, tags, notes, last change.
    private func planTasks(_ rows: [SourceRow]) async throws -> [ImportRow] {
        let owners = try await resolve(.user, rows.compactMap { $0.int(1) })
        return rows.map { row in
            let ownerID: Int64
            switch Self.follow(row.int(1).flatMap { owners[$0] }, what: "owner", sourceID: row.int(1)) {
            case .failure(let refused): return .skip(kind: "task", sourceID: row.id, reason: refused.reason)
            case .success(let id): ownerID = id
            }
            do throws(FarosRules.Refused) {
                let (fields, note) = try FarosRules.taskFields(
                    title: row[2], description: row[3], completed: row.bool(4), priority: row[5], dueDate: row[7], tags: row[8], notes: row[9])
                let createdAt = Self.time(row.int(6), or: importTime)
                let updatedAt = Timestamp(milliseconds: max(createdAt.milliseconds, row.int(10) ?? 0))
                return .task(sourceID: row.id, ImportedTask(ownerID: ownerID, fields: fields, createdAt: createdAt, updatedAt: updatedAt), note: note)
            } catch {
                return .skip(kind: "task", sourceID: row.id, reason: error.reason)
            }
        }
    }

    /// Columns: id, task_id, shared_with_user_id, permission, shared, shared_by_user_id.
    private func planShares(_ rows: [SourceRow]) async throws -> [ImportRow] {
        let tasks = try await resolve(.task, rows.compactMap { $0.int(1) })
        let users = try await resolve(.user, rows.flatMap { [$0.int(2), $0.int(5)].compactMap { $0 } })
        return rows.map { row in
            do throws(FarosRules.Refused) {
                let taskID = try Self.follow(row.int(1).flatMap { tasks[$0] }, what: "task", sourceID: row.int(1)).get()
                let userID = try Self.follow(row.int(2).flatMap { users[$0] }, what: "account", sourceID: row.int(2)).get()
                let permission = try FarosRules.sharePermission(row[3])
                let sharedBy = try? Self.follow(row.int(5).flatMap { users[$0] }, what: "account", sourceID: row.int(5)).get()
                return .share(sourceID: row.id, ImportedShare(
                    taskID: taskID, userID: userID, permission: permission, sharedAt: Self.time(row.int(4), or: importTime), sharedBy: sharedBy))
            } catch {
                return .skip(kind: "share", sourceID: row.id, reason: error.reason)
            }
        }
    }

    /// Columns: id, task_id, user_id, content, created, updated.
    private func planComments(_ rows: [SourceRow]) async throws -> [ImportRow] {
        let tasks = try await resolve(.task, rows.compactMap { $0.int(1) })
        let users = try await resolve(.user, rows.compactMap { $0.int(2) })
        return rows.map { row in
            do throws(FarosRules.Refused) {
                let taskID = try Self.follow(row.int(1).flatMap { tasks[$0] }, what: "task", sourceID: row.int(1)).get()
                let authorID = try Self.follow(row.int(2).flatMap { users[$0] }, what: "author", sourceID: row.int(2)).get()
                let content = try FarosRules.comment(row[3])
                let createdAt = Self.time(row.int(4), or: importTime)
                let updatedAt = Timestamp(milliseconds: max(createdAt.milliseconds, row.int(5) ?? 0))
                return .comment(sourceID: row.id, ImportedComment(
                    taskID: taskID, authorID: authorID, content: content, createdAt: createdAt, updatedAt: updatedAt))
            } catch {
                return .skip(kind: "comment", sourceID: row.id, reason: error.reason)
            }
        }
    }

    /// Columns: id, task_id, original_filename, stored_filename, file_size, content_type, uploaded, uploader.
    private func planFiles(_ rows: [SourceRow]) async throws -> [ImportRow] {
        let tasks = try await resolve(.task, rows.compactMap { $0.int(1) })
        let users = try await resolve(.user, rows.compactMap { $0.int(7) })
        var planned: [ImportRow?] = Array(repeating: nil, count: rows.count)
        var toCopy: [(index: Int, path: String, row: ImportedFile)] = []
        for (index, row) in rows.enumerated() {
            do throws(FarosRules.Refused) {
                let taskID = try Self.follow(row.int(1).flatMap { tasks[$0] }, what: "task", sourceID: row.int(1)).get()
                let stored = try FarosRules.storedFilename(row[3])
                let uploader = try? Self.follow(row.int(7).flatMap { users[$0] }, what: "account", sourceID: row.int(7)).get()
                toCopy.append((index, stored, ImportedFile(
                    taskID: taskID, filename: ContentDisposition.sanitizedFilename(row[2] ?? stored), size: 0, contentType: "",
                    storageKey: "", uploadedBy: uploader, uploadedAt: Self.time(row.int(6), or: importTime))))
            } catch {
                planned[index] = .skip(kind: "file", sourceID: row.id, reason: error.reason)
            }
        }
        // Several files at a time: each copy waits mostly on its own fsync (or S3 round trip).
        let copies = try await copyAll(toCopy.map(\.path), allowed: Set(ContentSniffer.allowedTypes), maxBytes: options.maxUploadBytes)
        for ((index, _, file), outcome) in zip(toCopy, copies) {
            switch outcome {
            case .refused(let reason):
                planned[index] = .skip(kind: "file", sourceID: rows[index].id, reason: reason)
            case .copied(let key, let type, let size):
                var file = file
                file.storageKey = key ?? "dry-run"
                file.contentType = type
                file.size = size
                planned[index] = .file(sourceID: rows[index].id, file)
            }
        }
        return planned.map { $0! }
    }

    /// Files copied at once, at most.
    static let concurrentCopies = 8

    /// Files whose blobs are opened and noted in `import_pending_blobs` together, in one
    /// transaction (not one per file), before their bytes are written; it also bounds the open
    /// descriptors whatever the batch size.
    static let copyChunk = 64

    /// Copies `paths` into the file store, up to ``concurrentCopies`` at a time; the outcomes
    /// in `paths` order. A source file that cannot be read is refused with the reason; a file
    /// store that fails stops the import.
    private func copyAll(_ paths: [String], allowed: Set<String>, maxBytes: Int64) async throws -> [FileCopier.Outcome] {
        var outcomes: [FileCopier.Outcome] = []
        outcomes.reserveCapacity(paths.count)
        var start = 0
        while start < paths.count {
            let chunk = Array(paths[start..<min(start + Self.copyChunk, paths.count)])
            outcomes += try await copyChunk(chunk, allowed: allowed, maxBytes: maxBytes)
            start += chunk.count
        }
        return outcomes
    }

    private func copyChunk(_ paths: [String], allowed: Set<String>, maxBytes: Int64) async throws -> [FileCopier.Outcome] {
        let copier = FileCopier(files: files, eventLoop: eventLoop)
        var writers: [(any BlobWriter)?] = Array(repeating: nil, count: paths.count)
        if !options.dryRun {
            for index in paths.indices { writers[index] = try await blobs.makeWriter(eventLoop: eventLoop).get() }
            try await target.registerPendingBlobs(writers.compactMap { $0?.key }, at: SystemClock.now())
        }
        let outcomes = try await withThrowingTaskGroup(of: (Int, FileCopier.Outcome).self) { group in
            var outcomes = [FileCopier.Outcome?](repeating: nil, count: paths.count)
            var next = 0
            func start() {
                let index = next
                let path = paths[index]
                let writer = writers[index]
                next += 1
                group.addTask {
                    do {
                        return (index, try await copier.copy(path, allowed: allowed, maxBytes: maxBytes, into: writer))
                    } catch let error as SourceFileError {
                        try? await writer?.abort().get()
                        return (index, .refused(error.description))
                    }
                }
            }
            while next < min(paths.count, Self.concurrentCopies) { start() }
            while let (index, outcome) = try await group.next() {
                outcomes[index] = outcome
                if next < paths.count { start() }
            }
            return outcomes.map { $0! }
        }
        // Refused files wrote nothing; their names need not wait for the next run's clean-up.
        let refused = zip(writers, outcomes).compactMap { writer, outcome -> String? in
            if case .refused = outcome { return writer?.key }
            return nil
        }
        try await target.forgetPendingBlobs(refused)
        return outcomes
    }

    private func copy(_ path: String, allowed: Set<String>, maxBytes: Int64) async throws -> FileCopier.Outcome {
        try await copyAll([path], allowed: allowed, maxBytes: maxBytes)[0]
    }

    /// Columns: id, user_id, action, resource_type, resource_id, details, created, latest entry
    /// of its comment, the comment's text now, whether the resource still exists.
    private func planActivity(_ rows: [SourceRow]) async throws -> [ImportRow] {
        struct Parsed {
            var action: ActivityAction
            var details: JSONObject
            var taskSourceID: Int64?
            var targetUserSourceID: Int64?
        }
        var parsed: [Int64: Parsed] = [:]
        var planned: [Int64: ImportRow] = [:]
        for row in rows {
            guard let action = FarosRules.action(resourceType: row[3], action: row[2]) else {
                planned[row.id] = .skip(kind: "activity", sourceID: row.id,
                                        reason: "FAROS action '\(row[2] ?? "")' on '\(row[3] ?? "")' has no Faros counterpart")
                continue
            }
            var details = JSONObject()
            if let text = row[5] {
                guard case .object(let object)? = try? JSONParser().parse(text) else {
                    planned[row.id] = .skip(kind: "activity", sourceID: row.id, reason: "its details are not a JSON object")
                    continue
                }
                details = object
            }
            let taskSourceID = row[3] == "task" ? row.int(4) : details["task_id"]?.numberValue?.int64
            let targetUser = (details["shared_with_user_id"] ?? details["unshared_user_id"])?.numberValue?.int64
            parsed[row.id] = Parsed(action: action, details: details, taskSourceID: taskSourceID, targetUserSourceID: targetUser)
        }
        let actors = try await resolve(.user, rows.compactMap { $0.int(1) } + parsed.values.compactMap(\.targetUserSourceID))
        var tasks = try await resolve(.task, parsed.values.compactMap(\.taskSourceID))
        var comments = try await resolve(.comment, rows.filter { $0[3] == "comment" }.compactMap { $0.int(4) })
        var files = try await resolve(.file, rows.filter { $0[3] == "file" }.compactMap { $0.int(4) })
        // History of rows FAROS deleted: their ids are set aside, so the entries keep naming them.
        let deletedTasks = Set(parsed.values.compactMap(\.taskSourceID).filter { tasks[$0] == nil })
        for (id, farosID) in try await reserve(.task, deletedTasks) {
            tasks[id] = ImportMapEntry(farosID: farosID, outcome: .reserved, note: nil)
        }
        let deletedComments = Set(rows.filter { $0[3] == "comment" && parsed[$0.id] != nil }.compactMap { $0.int(4) }.filter { comments[$0] == nil })
        for (id, farosID) in try await reserve(.comment, deletedComments) {
            comments[id] = ImportMapEntry(farosID: farosID, outcome: .reserved, note: nil)
        }
        let deletedFiles = Set(rows.filter { $0[3] == "file" && parsed[$0.id] != nil }.compactMap { $0.int(4) }.filter { files[$0] == nil })
        for (id, farosID) in try await reserve(.file, deletedFiles) {
            files[id] = ImportMapEntry(farosID: farosID, outcome: .reserved, note: nil)
        }

        return rows.map { row in
            if let done = planned[row.id] { return done }
            guard let entry = parsed[row.id] else { return .skip(kind: "activity", sourceID: row.id, reason: "unreadable") }
            do throws(FarosRules.Refused) {
                let actorID = try Self.follow(row.int(1).flatMap { actors[$0] }, what: "actor's account", sourceID: row.int(1)).get()
                let taskID = try Self.follow(entry.taskSourceID.flatMap { tasks[$0] }, what: "task", sourceID: entry.taskSourceID).get()
                let resourceID: Int64
                var details = JSONObject()
                let latest = row.bool(7) ?? false
                let commentText = row[8]
                switch entry.action {
                case .taskCreated, .taskDeleted:
                    resourceID = taskID
                    details = FarosRules.taskSnapshot(entry.details, taskID: taskID)
                case .taskUpdated:
                    resourceID = taskID
                    details = FarosRules.taskChanges(entry.details)
                case .shareCreated, .shareUpdated, .shareRevoked:
                    resourceID = try Self.follow(entry.targetUserSourceID.flatMap { actors[$0] }, what: "sharee's account",
                                                 sourceID: entry.targetUserSourceID).get()
                    let username = (entry.details["shared_with_username"] ?? entry.details["unshared_username"])?.stringValue ?? ""
                    details = ["username": .string(username)]
                    if let permission = entry.details["permission"] { details.append(key: "permission", value: permission) }
                case .commentCreated, .commentUpdated:
                    resourceID = try Self.follow(row.int(4).flatMap { comments[$0] }, what: "comment", sourceID: row.int(4)).get()
                    // Faros keeps a comment's text only in its latest entry, and only while it exists.
                    if latest, let commentText {
                        details = entry.action == .commentCreated
                            ? ["content": .string(commentText)] : ["content": ["new": .string(commentText)]]
                    } else {
                        details = ["redacted": .bool(true)]
                    }
                case .commentDeleted:
                    resourceID = try Self.follow(row.int(4).flatMap { comments[$0] }, what: "comment", sourceID: row.int(4)).get()
                case .fileUploaded, .fileDeleted:
                    resourceID = try Self.follow(row.int(4).flatMap { files[$0] }, what: "file", sourceID: row.int(4)).get()
                    if let filename = entry.details["filename"] { details.append(key: "filename", value: filename) }
                    if let size = entry.details["file_size"] { details.append(key: "size", value: size) }
                    if let type = entry.details["content_type"] { details.append(key: "contentType", value: type) }
                }
                return .activity(sourceID: row.id, ImportedActivity(
                    actorID: actorID, action: entry.action, resourceID: resourceID, taskID: taskID, details: details,
                    data: ["id": .number(JSONNumber(resourceID)), "taskId": .number(JSONNumber(taskID))],
                    createdAt: Self.time(row.int(6), or: importTime)))
            } catch {
                return .skip(kind: "activity", sourceID: row.id, reason: error.reason)
            }
        }
    }
}

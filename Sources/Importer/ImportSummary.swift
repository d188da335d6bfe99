import JSON

/// What an import did: per kind, rows imported now, imported by earlier runs, and skipped; the
/// files copied; every row skipped or changed on the way, with its reason.
package struct ImportSummary: Sendable {
    package struct Tally: Sendable, Equatable {
        package var imported = 0
        package var existing = 0
        package var skipped = 0
    }

    package struct Note: Sendable, Equatable {
        package var kind: String
        package var sourceID: Int64
        /// Skipped, or imported with a change it describes.
        package var skipped: Bool
        package var reason: String
    }

    /// At most this many notes are listed (the rest are counted; `import_map` holds them all).
    static let listedNotes = 10_000

    package var source = ""
    package var dryRun = false
    package var seconds = 0.0
    /// Rows written by this run (each source row once).
    package var rows = 0
    package var counts: [ImportKind: Tally] = [:]
    package var filesCopied = 0
    package var fileBytes: Int64 = 0
    package var avatarsCopied = 0
    package var avatarBytes: Int64 = 0
    package var notes: [Note] = []

    package var rowsPerSecond: Double { seconds > 0 ? Double(rows) / seconds : 0 }

    /// For people: a table of counts, then every skipped and changed row.
    package func text() -> String {
        var lines: [String] = []
        let verb = dryRun ? "would import" : "imported"
        lines.append("faros import: \(dryRun ? "dry run, nothing written; " : "")\(source) in \(String(format1: seconds)) s, "
            + "\(ImportProgress.grouped(rows)) rows \(dryRun ? "to import" : "imported") (\(ImportProgress.grouped(Int(rowsPerSecond))) rows/s)")
        lines.append("  " + "kind".padded(12) + verb.padded(14) + "earlier runs".padded(14) + "skipped")
        for kind in ImportKind.allCases {
            let tally = counts[kind] ?? Tally()
            lines.append("  " + kind.plural.padded(12) + ImportProgress.grouped(tally.imported).padded(14)
                + ImportProgress.grouped(tally.existing).padded(14) + ImportProgress.grouped(tally.skipped))
        }
        lines.append("  files: \(ImportProgress.grouped(filesCopied)) \(dryRun ? "to copy" : "copied") (\(ImportProgress.grouped(Int(fileBytes))) bytes); "
            + "avatars: \(ImportProgress.grouped(avatarsCopied)) (\(ImportProgress.grouped(Int(avatarBytes))) bytes)")
        let skipped = notes.filter(\.skipped)
        let changed = notes.filter { !$0.skipped }
        if !skipped.isEmpty {
            lines.append("skipped (\(skipped.count)):")
            lines += skipped.map { "  \($0.kind) \($0.sourceID): \($0.reason)" }
        }
        if !changed.isEmpty {
            lines.append("imported with changes (\(changed.count)):")
            lines += changed.map { "  \($0.kind) \($0.sourceID): \($0.reason)" }
        }
        return lines.joined(separator: "\n")
    }

    /// For tools (`--report FILE`).
    package func json() -> [UInt8] {
        var countsObject = JSONObject()
        for kind in ImportKind.allCases {
            let tally = counts[kind] ?? Tally()
            countsObject.append(key: kind.plural, value: [
                "imported": .number(JSONNumber(tally.imported)), "existing": .number(JSONNumber(tally.existing)),
                "skipped": .number(JSONNumber(tally.skipped)),
            ])
        }
        func list(_ skipped: Bool) -> JSONValue {
            .array(notes.filter { $0.skipped == skipped }.map {
                ["kind": .string($0.kind), "id": .number(JSONNumber($0.sourceID)), "reason": .string($0.reason)]
            })
        }
        let report: JSONObject = [
            "source": .string(source),
            "dryRun": .bool(dryRun),
            "seconds": .number(JSONNumber(seconds) ?? JSONNumber(0)),
            "rows": .number(JSONNumber(rows)),
            "rowsPerSecond": .number(JSONNumber(rowsPerSecond) ?? JSONNumber(0)),
            "counts": .object(countsObject),
            "files": ["copied": .number(JSONNumber(filesCopied)), "bytes": .number(JSONNumber(fileBytes))],
            "avatars": ["copied": .number(JSONNumber(avatarsCopied)), "bytes": .number(JSONNumber(avatarBytes))],
            "skipped": list(true),
            "normalized": list(false),
        ]
        return JSONWriter.serialize(.object(report))
    }
}

extension String {
    fileprivate init(format1 value: Double) {
        let tenths = Int((value * 10).rounded())
        self = "\(tenths / 10).\(tenths % 10)"
    }

    fileprivate func padded(_ width: Int) -> String {
        count >= width ? self + " " : self + String(repeating: " ", count: width - count)
    }
}

import ArgumentParser
import Testing

@testable import Faros

/// `faros import faros`'s flags: garbage is refused before anything is opened, naming the flag.
struct ImportCommandTests {
    static let source = ["--from", "postgres://u@127.0.0.1/faros"]

    @Test func aWholeCommandParses() throws {
        let command = try ImportFarosCommand.parse(Self.source + ["--files-s3", "s3://uploads/faros/files/", "--dry-run", "--progress", "lines"])
        #expect(command.dryRun && command.progress == .lines && command.batchSize == 1000 && command.schema == "faros")
        #expect(try ImportFarosCommand.bucketAndPrefix(command.filesS3!) == ("uploads", "faros/files"))
        #expect(try ImportFarosCommand.bucketAndPrefix("s3://uploads") == ("uploads", ""))
    }

    @Test(arguments: [
        ([], "--files-dir"),                                                   // neither source of files
        (["--files-dir", "/srv/up", "--files-s3", "s3://b"], "--files-dir"),   // both
        (["--files-dir", "/srv/up", "--batch-size", "0"], "--batch-size"),
        (["--files-dir", "/srv/up", "--batch-size", "100001"], "--batch-size"),
        (["--files-s3", "https://bucket/x"], "--files-s3"),
        (["--files-s3", "s3:///prefix"], "--files-s3"),
    ])
    func garbageIsRefusedNamingTheFlag(arguments: [String], flag: String) {
        do {
            _ = try ImportFarosCommand.parse(Self.source + arguments)
            Issue.record("\(arguments) was accepted")
        } catch {
            #expect(ImportFarosCommand.message(for: error).contains(flag))
        }
    }

    @Test(arguments: [["--progress", "sometimes"], ["--batch-size", "many"], ["--files-dir"]])
    func unparseableValuesAreRefused(arguments: [String]) {
        #expect(throws: (any Error).self) { try ImportFarosCommand.parse(Self.source + ["--files-dir", "/srv/up"] + arguments) }
    }

    @Test func theSourceIsRequired() {
        #expect(throws: (any Error).self) { try ImportFarosCommand.parse(["--files-dir", "/srv/up"]) }
    }
}

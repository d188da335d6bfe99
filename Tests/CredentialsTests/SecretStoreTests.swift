import Foundation
import ByteCoding
import Testing
@testable import Credentials

/// A fresh empty directory, removed after `body`.
func withTemporaryDirectory<T>(_ body: (String) throws -> T) throws -> T {
    let path = FileManager.default.temporaryDirectory.path + "/faros-credentials-" + Hex.encode(SecureRandom.bytes(8))
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
    defer { try? FileManager.default.removeItem(atPath: path) }
    return try body(path)
}

func permissions(_ path: String) throws -> Int {
    try #require(FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int)
}

func writeFile(_ path: String, _ bytes: [UInt8], mode: Int) throws {
    #expect(FileManager.default.createFile(atPath: path, contents: Data(bytes)))
    try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
}

func expectSecretError(_ code: CredentialsError.Code, dataDirectory: String) {
    do {
        _ = try SecretStore.loadOrCreateJWTSecret(dataDirectory: dataDirectory)
        Issue.record("expected \(code)")
    } catch {
        #expect(error.code == code)
    }
}

@Suite struct SecretStoreTests {
    @Test func createsAPrivateSecretAndReusesIt() throws {
        try withTemporaryDirectory { directory in
            let first = try SecretStore.loadOrCreateJWTSecret(dataDirectory: directory)
            #expect(first.count == 64)
            let path = directory + "/jwt-secret"
            #expect(try permissions(path) == 0o600)
            #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Data(first))
            // No temporary file is left behind.
            #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["jwt-secret"])
            let second = try SecretStore.loadOrCreateJWTSecret(dataDirectory: directory)
            #expect(second == first)
        }
    }

    @Test func secretsDifferBetweenDirectories() throws {
        let a = try withTemporaryDirectory { try SecretStore.loadOrCreateJWTSecret(dataDirectory: $0) }
        let b = try withTemporaryDirectory { try SecretStore.loadOrCreateJWTSecret(dataDirectory: $0) }
        #expect(a != b)
    }

    @Test func createdPrivateUnderAPermissiveUmask() throws {
        let old = umask(0)
        defer { umask(old) }
        try withTemporaryDirectory { directory in
            _ = try SecretStore.loadOrCreateJWTSecret(dataDirectory: directory)
            #expect(try permissions(directory + "/jwt-secret") == 0o600)
        }
    }

    @Test(arguments: [0o644, 0o640, 0o604, 0o660, 0o606, 0o666, 0o700 | 0o020])
    func refusesGroupOrOtherPermissions(mode: Int) throws {
        try withTemporaryDirectory { directory in
            try writeFile(directory + "/jwt-secret", [UInt8](repeating: 7, count: 64), mode: mode)
            expectSecretError(.secretFileInsecure, dataDirectory: directory)
        }
    }

    @Test(arguments: [0o600, 0o400])
    func acceptsAnOwnerOnlyFileWrittenByHand(mode: Int) throws {
        try withTemporaryDirectory { directory in
            let secret = [UInt8](repeating: 9, count: 32)
            try writeFile(directory + "/jwt-secret", secret, mode: mode)
            #expect(try SecretStore.loadOrCreateJWTSecret(dataDirectory: directory) == secret)
        }
    }

    @Test(arguments: [0, 1, 31])
    func refusesAShortFile(length: Int) throws {
        try withTemporaryDirectory { directory in
            try writeFile(directory + "/jwt-secret", [UInt8](repeating: 7, count: length), mode: 0o600)
            expectSecretError(.secretFileTooShort, dataDirectory: directory)
        }
    }

    @Test func refusesAnOversizedFile() throws {
        try withTemporaryDirectory { directory in
            try writeFile(directory + "/jwt-secret", [UInt8](repeating: 7, count: SecretStore.maximumFileBytes + 1), mode: 0o600)
            expectSecretError(.secretFileIO, dataDirectory: directory)
        }
    }

    @Test func refusesASymlink() throws {
        try withTemporaryDirectory { directory in
            try writeFile(directory + "/elsewhere", [UInt8](repeating: 7, count: 64), mode: 0o600)
            try FileManager.default.createSymbolicLink(atPath: directory + "/jwt-secret", withDestinationPath: directory + "/elsewhere")
            expectSecretError(.secretFileIO, dataDirectory: directory)
        }
    }

    @Test func refusesADirectory() throws {
        try withTemporaryDirectory { directory in
            try FileManager.default.createDirectory(atPath: directory + "/jwt-secret", withIntermediateDirectories: false)
            expectSecretError(.secretFileIO, dataDirectory: directory)
        }
    }

    @Test func missingDataDirectoryIsAnIOError() throws {
        try withTemporaryDirectory { directory in
            expectSecretError(.secretFileIO, dataDirectory: directory + "/missing")
        }
    }
}

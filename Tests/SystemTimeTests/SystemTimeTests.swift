import Handlers
import SystemTime
import Testing

/// The host's clock and zone database, as the domain's ports see them.
@Suite struct SystemTimeTests {
    @Test func theClockReadsTheRealTime() {
        let before = SystemClock.now()
        // 2026-01-01T00:00:00Z: this code did not exist before.
        #expect(before.milliseconds > 1_767_225_600_000)
        #expect(SystemClock.now() >= before)
    }

    @Test func theZoneDirectoryReadsTZifFiles() throws {
        let bytes = try #require(ZoneDirectory().tzif(named: "Europe/Berlin"))
        #expect(Array(bytes.prefix(4)) == Array("TZif".utf8))
        #expect(ZoneDirectory(root: "/usr/share/zoneinfo/").tzif(named: "Europe/Berlin") == bytes)
    }

    @Test func theZoneDirectoryFindsNothingElse() {
        #expect(ZoneDirectory().tzif(named: "Nowhere/Atlantis") == nil)
        // A directory is not a zone, nor is a device.
        #expect(ZoneDirectory().tzif(named: "Europe") == nil)
        #expect(ZoneDirectory(root: "/dev").tzif(named: "zero") == nil)
        #expect(ZoneDirectory(root: "").tzif(named: "Europe/Berlin") == nil)
    }
}

import NIOCore
import Testing

@testable import WebSocketCore

/// The connection's life with time passed in: every transition, no clock and no sleep.
@Suite("WebSocketLifecycleMachine")
struct WebSocketLifecycleMachineTests {
    typealias Machine = WebSocketLifecycleMachine

    /// Idle 4 s: keepalive ticks every 1 s and pings after 2 s of silence. Close timeout 500 ms.
    static let rpc = Machine.Configuration(
        closeTimeout: .milliseconds(500), idleTimeout: .seconds(4), maxCallsInFlight: 2, whenUnwritable: .closeSlowConsumer
    )
    static let echo = Machine.Configuration(
        closeTimeout: .milliseconds(500), idleTimeout: nil, maxCallsInFlight: nil, whenUnwritable: .pauseReads
    )

    /// A point in time, in milliseconds after an arbitrary start.
    static func at(_ milliseconds: Int64) -> NIODeadline {
        .uptimeNanoseconds(1_000_000_000) + .milliseconds(milliseconds)
    }

    static func started(_ configuration: Machine.Configuration = rpc) -> Machine {
        var machine = Machine(configuration: configuration, now: at(0))
        _ = machine.start(now: at(0))
        return machine
    }

    /// What starting a close handshake of our own returns at `now`.
    static func ourClose(_ code: WebSocketCloseCode, _ reason: String, now: Int64) -> [Machine.Action] {
        [.sendClose(code, reason: reason), .flush, .schedule(.close, at: at(now + 500))]
    }

    /// What a close frame that ends the connection (answer or failure) returns at `now`.
    static func finalClose(_ code: WebSocketCloseCode?, _ reason: String, now: Int64) -> [Machine.Action] {
        [.sendClose(code, reason: reason), .flushAndReport, .schedule(.close, at: at(now + 500))]
    }

    // MARK: Keepalive

    @Test func startSchedulesKeepaliveOnlyWhenThereIsAnIdleTimeout() {
        var rpc = Machine(configuration: Self.rpc, now: Self.at(0))
        #expect(rpc.start(now: Self.at(0)) == [.schedule(.keepalive, at: Self.at(1000))])
        var echo = Machine(configuration: Self.echo, now: Self.at(0))
        #expect(echo.start(now: Self.at(0)) == [])
        #expect(echo.timerFired(.keepalive, now: Self.at(10_000)) == [])
    }

    @Test func aSilentPeerIsPingedAtHalfTheIdleTimeoutThenClosedWith1008() {
        var machine = Self.started()
        #expect(machine.timerFired(.keepalive, now: Self.at(1000)) == [.schedule(.keepalive, at: Self.at(2000))])
        #expect(machine.timerFired(.keepalive, now: Self.at(2000)) == [.sendPing, .flush, .schedule(.keepalive, at: Self.at(3000))])
        // The ping is outstanding: no second one.
        #expect(machine.timerFired(.keepalive, now: Self.at(3000)) == [.schedule(.keepalive, at: Self.at(4000))])
        #expect(machine.timerFired(.keepalive, now: Self.at(4000)) == Self.ourClose(.policyViolation, "idle timeout", now: 4000))
        #expect(!machine.isSendingData)
        #expect(machine.timerFired(.keepalive, now: Self.at(5000)) == [])
    }

    @Test func anyInboundTrafficAnswersThePing() {
        var machine = Self.started()
        #expect(machine.timerFired(.keepalive, now: Self.at(2000)).contains(.sendPing))
        machine.inboundReceived(now: Self.at(2500))
        #expect(machine.timerFired(.keepalive, now: Self.at(3000)) == [.schedule(.keepalive, at: Self.at(4000))])
        #expect(machine.timerFired(.keepalive, now: Self.at(4000)) == [.schedule(.keepalive, at: Self.at(5000))])
        // Quiet again for half the timeout: a new ping, not a close.
        #expect(machine.timerFired(.keepalive, now: Self.at(4500)) == [.sendPing, .flush, .schedule(.keepalive, at: Self.at(5500))])
    }

    @Test func aLateTickPingsFirstAndClosesOnlyAfterThePingWentUnansweredForATick() {
        var machine = Self.started()
        #expect(machine.timerFired(.keepalive, now: Self.at(5000)) == [.sendPing, .flush, .schedule(.keepalive, at: Self.at(6000))])
        #expect(machine.timerFired(.keepalive, now: Self.at(5500)) == [.schedule(.keepalive, at: Self.at(6500))])
        #expect(machine.timerFired(.keepalive, now: Self.at(6000)) == Self.ourClose(.policyViolation, "idle timeout", now: 6000))
    }

    // MARK: The peer's close

    @Test func thePeersCloseIsAnsweredAndTCPClosesOnceWritten() {
        var machine = Self.started()
        #expect(machine.peerClosed(reply: WebSocketCloseCode(rawValue: 4000), now: Self.at(100)) == Self.finalClose(WebSocketCloseCode(rawValue: 4000), "", now: 100))
        #expect(!machine.isSendingData)
        #expect(!machine.isReadingFrames)
        #expect(machine.writesFlushed() == [.closeTCP])
        #expect(machine.timerFired(.close, now: Self.at(600)) == [])
        #expect(machine.peerClosed(reply: .normalClosure, now: Self.at(700)) == [])
    }

    @Test func anEmptyPeerCloseIsAnsweredWithAnEmptyClose() {
        var machine = Self.started()
        #expect(machine.peerClosed(reply: nil, now: Self.at(0)) == Self.finalClose(nil, "", now: 0))
    }

    /// The peer closed and stopped reading: our close never gets written, the deadline closes TCP.
    @Test func thePeersCloseHasADeadlineWhenOurAnswerCannotBeWritten() {
        var machine = Self.started()
        _ = machine.peerClosed(reply: .normalClosure, now: Self.at(100))
        #expect(machine.timerFired(.close, now: Self.at(600)) == [.closeTCP])
        #expect(machine.writesFlushed() == [])
        #expect(machine.transportFailed() == [])
    }

    @Test func whileDrainingThePeersCloseIsAnsweredToo() {
        var machine = Self.started()
        _ = machine.callsInFlightChanged(to: 1, now: Self.at(0))
        _ = machine.shutdown(deadline: Self.at(10_000), now: Self.at(0))
        #expect(machine.peerClosed(reply: .goingAway, now: Self.at(50)) == Self.finalClose(.goingAway, "", now: 50))
        #expect(machine.timerFired(.drain, now: Self.at(10_000)) == [])
    }

    // MARK: Protocol failures

    @Test func aProtocolFailureSendsItsCodeAndHasADeadline() {
        var machine = Self.started()
        #expect(machine.protocolFailure(.protocolError, reason: "reserved opcode", now: Self.at(10)) == Self.finalClose(.protocolError, "reserved opcode", now: 10))
        #expect(!machine.isReadingFrames)
        #expect(machine.timerFired(.close, now: Self.at(510)) == [.closeTCP])
        #expect(machine.protocolFailure(.protocolError, reason: "again", now: Self.at(600)) == [])
    }

    @Test func aFailureAfterOurCloseJustClosesTCP() {
        var machine = Self.started()
        _ = machine.close(.policyViolation, reason: "too many calls", now: Self.at(0))
        #expect(machine.protocolFailure(.invalidPayloadData, reason: "bad UTF-8", now: Self.at(10)) == [.closeTCP])
        #expect(machine.timerFired(.close, now: Self.at(500)) == [])
    }

    @Test func aFailureWhileOurLastFrameIsQueuedClosesTCPAtOnce() {
        var machine = Self.started()
        _ = machine.peerClosed(reply: nil, now: Self.at(0))
        #expect(machine.protocolFailure(.internalError, reason: "compression failed", now: Self.at(10)) == [.closeTCP])
    }

    // MARK: Our close

    @Test func ourCloseWaitsForThePeersThenClosesTCP() {
        var machine = Self.started()
        #expect(machine.close(.policyViolation, reason: "too many calls", now: Self.at(100)) == Self.ourClose(.policyViolation, "too many calls", now: 100))
        #expect(!machine.isSendingData)
        #expect(machine.isReadingFrames)
        #expect(machine.close(.goingAway, reason: "twice", now: Self.at(150)) == [])
        #expect(machine.peerClosed(reply: .policyViolation, now: Self.at(200)) == [.closeTCP])
        #expect(!machine.isReadingFrames)
        #expect(machine.timerFired(.close, now: Self.at(600)) == [])
    }

    @Test func ourCloseHasADeadlineWhenThePeerNeverAnswers() {
        var machine = Self.started()
        _ = machine.close(.policyViolation, reason: "too many calls", now: Self.at(100))
        #expect(machine.timerFired(.close, now: Self.at(600)) == [.closeTCP])
        #expect(machine.peerClosed(reply: nil, now: Self.at(700)) == [])
    }

    @Test func aCloseTimerWhileOpenIsIgnored() {
        var machine = Self.started()
        #expect(machine.timerFired(.close, now: Self.at(100)) == [])
        #expect(machine.isSendingData)
    }

    // MARK: Draining

    @Test func shutdownWithNoCallsInFlightClosesWith1001AtOnce() {
        var machine = Self.started()
        #expect(machine.shutdown(deadline: Self.at(10_000), now: Self.at(5)) == Self.ourClose(.goingAway, "server shutting down", now: 5))
        #expect(machine.shutdown(deadline: Self.at(10_000), now: Self.at(6)) == [])
    }

    @Test func shutdownLetsCallsInFlightFinishThenClosesWith1001() {
        var machine = Self.started()
        #expect(machine.callsInFlightChanged(to: 1, now: Self.at(0)) == [])
        #expect(machine.shutdown(deadline: Self.at(10_000), now: Self.at(10)) == [.schedule(.drain, at: Self.at(10_000))])
        #expect(machine.isSendingData)
        #expect(machine.isPausedForCalls)
        #expect(machine.readRequested() == false)
        // Keepalive stops while draining.
        #expect(machine.timerFired(.keepalive, now: Self.at(3000)) == [])
        #expect(machine.callsInFlightChanged(to: 0, now: Self.at(300)) == Self.ourClose(.goingAway, "server shutting down", now: 300))
        #expect(machine.timerFired(.drain, now: Self.at(10_000)) == [])
        #expect(machine.peerClosed(reply: .goingAway, now: Self.at(400)) == [.closeTCP])
    }

    @Test func theShutdownDeadlineClosesWithCallsStillInFlight() {
        var machine = Self.started()
        _ = machine.callsInFlightChanged(to: 2, now: Self.at(0))
        _ = machine.shutdown(deadline: Self.at(10_000), now: Self.at(0))
        #expect(machine.timerFired(.drain, now: Self.at(10_000)) == [.drainDeadlinePassed] + Self.ourClose(.goingAway, "server shutting down", now: 10_000))
        #expect(machine.callsInFlight == 2)
        #expect(machine.callsInFlightChanged(to: 0, now: Self.at(10_100)) == [])
    }

    @Test func shutdownAfterOurCloseChangesNothing() {
        var machine = Self.started()
        _ = machine.close(.policyViolation, reason: "too many calls", now: Self.at(0))
        #expect(machine.shutdown(deadline: Self.at(10_000), now: Self.at(1)) == [])
    }

    @Test func echoDrainsAtOnceAndNeverPausesForCalls() {
        var machine = Self.started(Self.echo)
        #expect(!machine.isPausedForCalls)
        #expect(machine.shutdown(deadline: Self.at(10_000), now: Self.at(0)) == Self.ourClose(.goingAway, "server shutting down", now: 0))
    }

    // MARK: Slow consumers and reads

    @Test func anUnwritableRPCSocketIsCutOffWith1013OnlyWhileOpen() {
        var machine = Self.started()
        #expect(machine.writabilityChanged(isWritable: true, now: Self.at(0)) == [])
        #expect(machine.writabilityChanged(isWritable: false, now: Self.at(10)) == [.slowConsumerCutOff] + Self.ourClose(.tryAgainLater, "slow consumer: outbound buffer overflow", now: 10))
        #expect(machine.writabilityChanged(isWritable: false, now: Self.at(20)) == [])
        // Writability never holds reads on /rpc.
        #expect(machine.readRequested() == true)

        var draining = Self.started()
        _ = draining.callsInFlightChanged(to: 1, now: Self.at(0))
        _ = draining.shutdown(deadline: Self.at(10_000), now: Self.at(0))
        #expect(draining.writabilityChanged(isWritable: false, now: Self.at(10)) == [])
    }

    @Test func echoHoldsReadsWhileUnwritable() {
        var machine = Self.started(Self.echo)
        #expect(machine.readRequested() == true)
        #expect(machine.writabilityChanged(isWritable: false, now: Self.at(0)) == [])
        #expect(machine.readRequested() == false)
        #expect(machine.releaseHeldRead() == false)
        #expect(machine.writabilityChanged(isWritable: true, now: Self.at(10)) == [])
        #expect(machine.releaseHeldRead() == true)
        // Released once: nothing is held any more.
        #expect(machine.releaseHeldRead() == false)
    }

    @Test func readsAreHeldAtTheInflightLimit() {
        var machine = Self.started()
        #expect(machine.releaseHeldRead() == false)
        _ = machine.callsInFlightChanged(to: 2, now: Self.at(0))
        #expect(machine.isPausedForCalls)
        #expect(machine.readRequested() == false)
        #expect(machine.releaseHeldRead() == false)
        _ = machine.callsInFlightChanged(to: 1, now: Self.at(10))
        #expect(!machine.isPausedForCalls)
        #expect(machine.releaseHeldRead() == true)
        #expect(machine.readRequested() == true)
    }

    // MARK: The transport

    @Test func aTransportFailureClosesTCPOnce() {
        var machine = Self.started()
        #expect(machine.transportFailed() == [.closeTCP])
        #expect(machine.transportFailed() == [])
        #expect(!machine.isSendingData)
        #expect(!machine.isReadingFrames)
    }

    @Test func afterTheChannelClosedNothingHappens() {
        var machine = Self.started()
        machine.channelClosed()
        #expect(machine.timerFired(.keepalive, now: Self.at(2000)) == [])
        #expect(machine.close(.goingAway, reason: "late", now: Self.at(2000)) == [])
        #expect(machine.peerClosed(reply: nil, now: Self.at(2000)) == [])
        #expect(machine.shutdown(deadline: Self.at(3000), now: Self.at(2000)) == [])
        #expect(machine.writesFlushed() == [])
    }
}

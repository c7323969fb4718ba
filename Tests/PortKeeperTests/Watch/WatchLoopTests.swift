@testable import PortKeeper
import Testing

/// The watch loop in process, on a fake gateway and a manual clock: its timing, with no
/// sleeping. A test that waits for something that never comes fails at the time limit.
@Suite("Watch loop", .timeLimit(.minutes(1)))
struct WatchLoopTests {
    enum AliveTiming: String, CaseIterable, CustomTestStringConvertible {
        case duringTheCheck = "while the byebye's check is still failing"
        case afterTheCheck = "after the byebye's check failed"
        case never = "never"
        var testDescription: String { rawValue }
    }

    @Test("after a byebye, the gateway's return is noticed within 2 s, whether its alive arrives during the byebye's check, after it, or never",
          arguments: AliveTiming.allCases)
    func returnAfterByebye(alive: AliveTiming) async throws {
        let run = WatchRun()
        try await run.log.wait(for: "verified")
        // It leaves; the byebye's check is held until the test lets it fail.
        let (entered, enter) = AsyncStream<Void>.makeStream()
        let (released, release) = AsyncStream<Void>.makeStream()
        run.target.beforeReconcile.withLock {
            $0 = { call in
                guard call == 1 else { return }
                enter.yield()
                for await _ in released { break }
                throw FakeWatchTarget.Gone()
            }
        }
        let byebyeAt = run.clock.now
        run.target.update { $0.missing = 1 }
        try run.target.announce("ssdp:byebye")
        for await _ in entered { break }
        // Back without one mapping; it says so with the BOOTID it had before, or says nothing.
        if alive == .duringTheCheck { try run.target.announce("ssdp:alive") }
        release.yield()
        try await run.log.wait(for: "away")
        switch alive {
        case .duringTheCheck: break
        case .afterTheCheck: try run.target.announce("ssdp:alive")
        case .never:
            // Only the away re-check, a second later, can find it back.
            #expect(try await run.advanceToNextSleep() == byebyeAt.advanced(by: .seconds(1)))
        }
        try await run.log.wait(for: "restored")
        // The byebye's look and the one that found it back; neither searches the network.
        let looks = run.target.looks.filter { $0.look == .reconcile(rediscover: false) }
        #expect(looks.count == 2)
        #expect(byebyeAt.duration(to: try #require(looks.last).at) <= .seconds(2))
        try await run.finish()
        let told = alive == .never ? ["away", "restored", "checked"] : ["away", "announcedReturn", "restored", "checked"]
        #expect(run.log.kinds == ["started", "verified", "checked", "announcedLeaving"] + told + ["stopped"])
    }

    @Test("an uptime that goes down means a reboot: a full reconcile at once, and what it restores is told as lost in the reboot")
    func uptimeDownIsReboot() async throws {
        let run = WatchRun()
        try await run.log.wait(for: "verified")
        run.target.update { state in
            state.uptime = 5
            state.missing = 2
        }
        let checkedAt = try await run.advanceToNextSleep()
        #expect(checkedAt == .at(60))
        guard case let .restored(count, lost, afterReboot, revision) = try await run.log.wait(for: "restored") else { Issue.record(); return }
        #expect(count == 2 && lost && afterReboot && revision == 1)
        guard case let .rebooted(uptime, was)? = run.log.events.first(where: { $0.kind == "rebooted" }) else {
            Issue.record("the uptime going down was not told as a reboot")
            return
        }
        #expect((uptime, was) == (5, 1000))
        // No quick check first: the reboot is reason enough for the full look.
        #expect(run.target.looks.filter { $0.at == checkedAt }.map(\.look) == [.uptime, .reconcile(rediscover: true)])
        try await run.finish()
    }

    @Test("a lease is renewed at half its length, long before the next periodic check")
    func leaseRenewedAtHalf() async throws {
        let run = WatchRun { target, _ in target.update { $0.lease = (6, .at(0)) } }
        try await run.log.wait(for: "verified")
        #expect(try await run.advanceToNextSleep() == .at(3))
        try await run.log.wait(for: "renewed")
        #expect(try await run.advanceToNextSleep() == .at(6))
        try await run.log.wait(for: "renewed", count: 2)
        #expect(try await run.clock.nextSleep() == .at(9))
        let renewals = run.target.looks.filter { $0.look == .reconcile(rediscover: true) }.map(\.at)
        #expect(renewals == [.at(3), .at(6)])
        try await run.finish()
    }

    @Test("after errors the wait doubles from the interval up to the cap, and one success brings it back to the interval")
    func backoffDoublesAndCaps() async throws {
        let run = WatchRun(interval: .seconds(10)) { target, watcher in
            watcher.maxBackoff = .seconds(60)
            target.update { $0.answering = false }
        }
        for count in 1...5 {
            try await run.log.wait(for: "retrying", count: count)
            if count == 5 { run.target.update { $0.answering = true } }
            try await run.advanceToNextSleep()
        }
        let waits = run.log.events.compactMap { event -> Duration? in
            if case .retrying(_, let after) = event { after } else { nil }
        }
        #expect(waits == [10, 20, 40, 60, 60].map { .seconds($0) })
        // Those waits, one after the other: the sixth check, which the gateway answers, is at
        // 10+20+40+60+60 s.
        try await run.log.wait(for: "verified")
        #expect(run.target.looks.last?.at == .at(190))
        run.target.update { $0.answering = false }
        #expect(try await run.advanceToNextSleep() == .at(200))
        guard case .retrying(_, let after) = try await run.log.wait(for: "retrying", count: 6) else { Issue.record(); return }
        #expect(after == .seconds(10))
        try await run.finish()
    }

    @Test("while the gateway stays away, it is looked at after 1, 2, 4 … s up to the interval, and searched for by UDN only at that cap")
    func awayRechecksDoubleToTheInterval() async throws {
        let run = WatchRun()
        try await run.log.wait(for: "verified")
        let byebyeAt = run.clock.now
        run.target.update { $0.answering = false }
        try run.target.announce("ssdp:byebye")
        try await run.log.wait(for: "away")
        var last = byebyeAt
        var waits: [Duration] = []
        for _ in 0..<8 {
            let next = try await run.advanceToNextSleep()
            waits.append(last.duration(to: next))
            last = next
        }
        _ = try await run.clock.nextSleep()
        #expect(waits == [1, 2, 4, 8, 16, 32, 60, 60].map { .seconds($0) })
        // The byebye's own look, the re-checks after 1 … 32 s, then those at the cap.
        let searches = run.target.looks.compactMap { look -> Bool? in
            if case .reconcile(let rediscover) = look.look { rediscover } else { nil }
        }
        #expect(searches == [false, false, false, false, false, false, true, true, true])
        #expect(run.log.kinds.filter { $0 == "away" }.count == 1, "away is told once, not at every re-check")
        #expect(!run.log.kinds.contains("retrying"), "an away gateway is not an error")
        try await run.finish()
    }

    @Test("a stop request during a reconcile is honoured between its operations, and the watch ends without another look")
    func stopDuringReconcile() async throws {
        let (entered, enter) = AsyncStream<Void>.makeStream()
        let (released, release) = AsyncStream<Void>.makeStream()
        let run = WatchRun { target, _ in
            target.update { $0.missing = 1 }
            target.beforeReconcile.withLock {
                $0 = { _ in
                    enter.yield()
                    for await _ in released { break }
                }
            }
        }
        for await _ in entered { break }
        run.stop.request()
        release.yield()
        try await run.ended()
        #expect(run.target.state.withLock { $0.stopAnswers } == [true])
        #expect(run.target.looks.map(\.look) == [.uptime, .quickCheck, .reconcile(rediscover: true)])
        #expect(run.log.kinds.first == "started" && run.log.kinds.last == "stopped")
        #expect(!run.log.kinds.contains("restored"))
    }

    @Test("a stop request while the watch waits ends it at once, with no further look")
    func stopWhileWaiting() async throws {
        let run = WatchRun()
        try await run.log.wait(for: "verified")
        _ = try await run.clock.nextSleep()
        let looks = run.target.looks.count
        run.stop.request()
        try await run.ended()
        #expect(run.target.looks.count == looks)
        #expect(run.log.kinds.last == "stopped")
    }

    @Test("a burst of the same announcement is one check; news in it (a new BOOTID after a byebye) is another")
    func announcementBursts() async throws {
        let run = WatchRun()
        try await run.log.wait(for: "verified")
        for _ in 0..<3 { try run.target.announce("ssdp:byebye") }
        for _ in 0..<3 { try run.target.announce("ssdp:alive", bootID: 2) }
        try await run.log.wait(for: "announcedRestart")
        _ = try await run.clock.nextSleep()
        #expect(run.log.kinds.filter { $0.hasPrefix("announced") } == ["announcedLeaving", "announcedRestart"])
        #expect(run.target.looks.filter { if case .reconcile = $0.look { true } else { false } }.count == 2)
        try await run.finish()
    }

    @Test("a PCP server's announced epoch is a full reconcile at once, which restores what its restart lost; its repeats are not")
    func announcedEpochRestores() async throws {
        let run = WatchRun()
        try await run.log.wait(for: "verified")
        let announcedAt = run.clock.now
        run.target.update { $0.missing = 1 }
        for epoch: UInt32 in [0, 0, 0] { run.target.announceEpoch(epoch) }
        let restored = try await run.log.wait(for: "restored")
        _ = try await run.clock.nextSleep()
        // The clock never moved: only the announcement can have brought the look, and it was a
        // reconcile, not the quick check.
        #expect(run.clock.now == announcedAt)
        #expect(run.target.looks.map(\.look) == [.uptime, .quickCheck, .uptime, .reconcile(rediscover: true)])
        try await run.finish()
        #expect(run.log.kinds == ["started", "verified", "checked", "announcedEpoch", "restored", "checked", "stopped"])
        guard case .restored(1, true, true, _) = restored else {
            Issue.record("restored as lost in a reboot: \(run.log.kinds)"); return
        }
    }

    @Test("with announcements off, a PCP server's announcement is not heard")
    func announcementsOff() async throws {
        let run = WatchRun { _, watcher in watcher.listenForAnnouncements = false }
        try await run.log.wait(for: "verified")
        run.target.update { $0.missing = 1 }
        run.target.announceEpoch(0)
        _ = try await run.clock.nextSleep()
        #expect(!run.log.kinds.contains("announcedEpoch"))
        // The periodic check, a minute later, finds it.
        try await run.advanceToNextSleep()
        try await run.log.wait(for: "restored")
        try await run.finish()
        #expect(!run.log.kinds.contains("announcedEpoch"))
    }
}

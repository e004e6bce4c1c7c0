import Foundation
import LeadDomain
import LeadEngine
import LedgerJSON
import Testing
import TestSupport

/// The store under faults, as an operator meets them: two writers, a full disk, damaged
/// files, read-only media, reads of a path that holds no store. Each ends in a clear message,
/// no signal, and a usable store with every acknowledged event present exactly once.
@Suite("Store faults: one writer, full disks, damaged files", .serialized)
struct StoreFaultTests {
    /// A generated history of `leads` leads as JSONL, with ids and leads prefixed so that two
    /// inputs never share one.
    static func history(_ dir: TemporaryDirectory, _ name: String, leads: Int, seed: UInt64, prefix: String) throws -> (path: String, lines: Int) {
        let raw = dir.file(name + ".raw")
        let generated = try LeadLedgerBinary.run(["generate", "--leads", "\(leads)", "--seed", "\(seed)", "--out", raw])
        #expect(generated.status == 0, "\(generated.stderr)")
        let text = try String(contentsOfFile: raw, encoding: .utf8)
            .replacingOccurrences(of: "\"id\":\"", with: "\"id\":\"\(prefix)")
            .replacingOccurrences(of: "\"lead\":\"", with: "\"lead\":\"\(prefix)")
        let path = try dir.write(name, text)
        return (path, text.split(separator: "\n").count)
    }

    static func json(_ result: LeadLedgerBinary.Result) throws -> JSONValue {
        try JSONParser.parse(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    static func eventCount(_ store: String) throws -> Int {
        let verify = try LeadLedgerBinary.run(["verify", "--store", store])
        #expect(verify.status == 0, "\(verify.stderr)")
        let words = verify.stdout.split(separator: " ")
        return Int((words.dropFirst().first ?? "").replacingOccurrences(of: ",", with: "")) ?? -1
    }

    // MARK: One writer

    @Test func aSecondWriterFailsAtOnceWithNoWaitOrWaitsItsTurnAndNothingIsLost() throws {
        let dir = TemporaryDirectory("two-writers")
        let store = dir.file("store")
        let a = try Self.history(dir, "a.jsonl", leads: 300, seed: 1, prefix: "A")
        let b = try Self.history(dir, "b.jsonl", leads: 300, seed: 2, prefix: "B")

        // This process holds the writer lock: a second writer is told who holds it.
        let holder = try LeadStore(path: store)
        let refused = try LeadLedgerBinary.run(["ingest", b.path, "--store", store, "--no-wait"])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("is being written by pid \(ProcessInfo.processInfo.processIdentifier)"), "\(refused.stderr)")

        // Without --no-wait it waits, says so, and goes on once the lock is free.
        let waiting = try LeadLedgerBinary.start(["ingest", b.path, "--store", store, "--format", "json"])
        let errors = Pipe()
        let output = Pipe()
        waiting.standardError = errors
        waiting.standardOutput = output
        waiting.standardInput = FileHandle.nullDevice
        try waiting.run()
        Thread.sleep(forTimeInterval: 1)
        #expect(waiting.isRunning)
        holder.close()
        let said = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let summary = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        waiting.waitUntilExit()
        #expect(waiting.terminationStatus == 0, "\(said)")
        #expect(said.contains("waiting for the writer lock"))
        #expect(try JSONParser.parse(summary.trimmingCharacters(in: .whitespacesAndNewlines))["appended"] == .number(Double(b.lines)))

        // Two ingests at once: each event stored once, in its input's order.
        let first = try LeadLedgerBinary.start(["ingest", a.path, "--store", store])
        first.standardOutput = FileHandle.nullDevice
        first.standardError = FileHandle.nullDevice
        try first.run()
        let second = try LeadLedgerBinary.run(["ingest", a.path, "--store", store])
        first.waitUntilExit()
        #expect(first.terminationStatus == 0)
        #expect(second.status == 0, "\(second.stderr)")
        #expect(try Self.eventCount(store) == a.lines + b.lines)
    }

    @Test func readCommandsNeverCreateAStore() throws {
        let dir = TemporaryDirectory("no-store")
        let typo = dir.file("typo")
        for arguments in [["report", "funnel"], ["verify"], ["lead", "show", "L-1"], ["audit"], ["rules", "show"]] {
            let result = try LeadLedgerBinary.run(arguments + ["--store", typo])
            #expect(result.status == 1, "\(arguments)")
            #expect(result.stderr.contains("no LeadLedger store at \(typo)"), "\(arguments): \(result.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: typo))
    }

    // MARK: Damaged files

    @Test(arguments: ["empty", "8 KiB", "16 KiB", "half", "one page short", "missing"])
    func aTruncatedDataFileIsReportedAsDamageByEveryCommand(cut: String) throws {
        let dir = TemporaryDirectory("truncated")
        let store = dir.file("store")
        let input = try Self.history(dir, "events.jsonl", leads: 200, seed: 3, prefix: "")
        #expect(try LeadLedgerBinary.run(["ingest", input.path, "--store", store]).status == 0)
        let data = store + "/data.mdb"
        let size = try FileManager.default.attributesOfItem(atPath: data)[.size] as? Int ?? 0
        switch cut {
        case "missing": try FileManager.default.removeItem(atPath: data)
        default:
            let keep = ["empty": 0, "8 KiB": 8192, "16 KiB": 16384, "half": size / 2 / 4096 * 4096, "one page short": size - 4096][cut] ?? 0
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: data))
            try handle.truncate(atOffset: UInt64(keep))
            try handle.close()
        }
        for arguments in [["verify"], ["rebuild"], ["report", "funnel"], ["ingest", input.path]] {
            let result = try LeadLedgerBinary.run(arguments + ["--store", store])
            #expect(result.status == 1, "\(cut), \(arguments): exit \(result.status)")
            #expect(result.stderr.contains("damaged"), "\(cut), \(arguments): \(result.stderr)")
        }
    }

    // MARK: Killed multi-step commands

    /// `rebuild` and `rules publish` killed at random moments: the store opens, its log and
    /// projections verify against a fresh replay, and a re-run completes the publish.
    @Test func killedRebuildsAndPublishesLeaveAUsableStore() throws {
        let dir = TemporaryDirectory("killed-steps")
        let store = dir.file("store")
        let input = try Self.history(dir, "events.jsonl", leads: 2_000, seed: 7, prefix: "")
        #expect(try LeadLedgerBinary.run(["ingest", input.path, "--store", store]).status == 0)
        let seed = try TestSeed.fromEnvironment()
        print("killed steps: seed \(seed) (LEADLEDGER_TEST_SEED=\(seed) to repeat)")
        var random = SeededRandom(seed: seed)
        let rules = SchemaExamples.folder.appendingPathComponent("rules/valid/spec-example.yaml").path
        for (step, arguments) in [["rebuild"], ["rebuild"], ["rules", "publish", rules], ["rebuild"]].enumerated() {
            let process = try LeadLedgerBinary.start(arguments + ["--store", store])
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            usleep(UInt32(Double.random(in: 0.02...0.6, using: &random) * 1_000_000))
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            // The published rules (if the kill came after their append) are completed by the
            // next writer, or by publishing them again.
            if arguments[0] == "rules" {
                let again = try LeadLedgerBinary.run(arguments + ["--store", store])
                #expect(again.status == 0, "seed \(seed), step \(step): \(again.stderr)")
            }
            let verify = try LeadLedgerBinary.run(["verify", "--deep", "--store", store])
            #expect(verify.status == 0, "seed \(seed), step \(step) (\(arguments[0])): \(verify.stderr)")
        }
    }

    // MARK: Full disks and read-only media (a small tmpfs; root only)

    @Test(.enabled(if: SmallFileSystem.available, "needs root to mount a tmpfs"))
    func aFullDiskStopsTheIngestAsAPrefixThatARerunCompletes() throws {
        let dir = TemporaryDirectory("disk-full")
        let input = try Self.history(dir, "events.jsonl", leads: 3_000, seed: 4, prefix: "")
        let disk = try SmallFileSystem(dir.file("disk"), megabytes: 12)
        defer { disk.unmount() }
        let store = disk.path + "/store"

        let failed = try LeadLedgerBinary.run(["ingest", input.path, "--store", store, "--format", "json"])
        #expect(failed.status == 1)
        #expect(failed.stderr.contains("stopped at line"), "\(failed.stderr)")
        #expect(failed.stderr.contains("disk is most likely full") || failed.stderr.contains("no space left on device"), "\(failed.stderr)")
        #expect(failed.stderr.contains(store))
        let summary = try Self.json(failed)
        let storedThrough = Int(summary["failed"]?["storedThroughLine"]?.doubleValue ?? -1)
        #expect(storedThrough > 0 && storedThrough < input.lines, "\(failed.stdout)")
        // The stored part is exactly the prefix: every event of lines 1…storedThrough.
        #expect(try Self.eventCount(store) == Int(summary["appended"]?.doubleValue ?? -1))
        #expect(try Self.eventCount(store) == storedThrough)

        try disk.resize(megabytes: 64)
        let rerun = try LeadLedgerBinary.run(["ingest", input.path, "--store", store, "--format", "json"])
        #expect(rerun.status == 0, "\(rerun.stderr)")
        #expect(try Self.json(rerun)["duplicates"] == .number(Double(storedThrough)))
        #expect(try Self.eventCount(store) == input.lines)
    }

    @Test(.enabled(if: SmallFileSystem.available, "needs root to mount a tmpfs"))
    func creatingAStoreOnAFullDiskFailsCleanly() throws {
        let dir = TemporaryDirectory("disk-full-new")
        let input = try Self.history(dir, "events.jsonl", leads: 20, seed: 5, prefix: "")
        let disk = try SmallFileSystem(dir.file("disk"), megabytes: 1)
        defer { disk.unmount() }
        // Fill it.
        _ = FileManager.default.createFile(atPath: disk.path + "/fill", contents: Data(count: 1 << 20))
        let store = disk.path + "/store"
        let result = try LeadLedgerBinary.run(["ingest", input.path, "--store", store])
        #expect(result.status == 1, "exit \(result.status): \(result.stderr)")
        #expect(result.stderr.contains("no space left on device") || result.stderr.contains("disk is most likely full"), "\(result.stderr)")
        for arguments in [["verify"], ["report", "funnel"]] {
            let after = try LeadLedgerBinary.run(arguments + ["--store", store])
            #expect(after.status == 1, "\(arguments): exit \(after.status)")
        }
    }

    @Test(.enabled(if: SmallFileSystem.available, "needs root to mount a tmpfs"))
    func aStoreOnReadOnlyMediaCanBeRead() throws {
        let dir = TemporaryDirectory("read-only")
        let input = try Self.history(dir, "events.jsonl", leads: 100, seed: 6, prefix: "")
        let disk = try SmallFileSystem(dir.file("disk"), megabytes: 32)
        defer { disk.unmount() }
        let store = disk.path + "/store"
        #expect(try LeadLedgerBinary.run(["ingest", input.path, "--store", store]).status == 0)
        try FileManager.default.removeItem(atPath: store + "/lock.mdb")
        try disk.makeReadOnly()
        for arguments in [["verify"], ["report", "funnel"], ["audit", "--type", "lead.handed_off"]] {
            let result = try LeadLedgerBinary.run(arguments + ["--store", store])
            #expect(result.status == 0, "\(arguments): \(result.stderr)")
        }
        let write = try LeadLedgerBinary.run(["ingest", input.path, "--store", store])
        #expect(write.status == 1)
        #expect(write.stderr.contains("read-only file system"), "\(write.stderr)")
    }
}

/// A tmpfs of a few megabytes, mounted for one test (root only; where mounting is not
/// allowed, the tests that need one are skipped).
final class SmallFileSystem {
    let path: String

    static let available: Bool = {
        guard getuid() == 0 else { return false }
        let probe = TemporaryDirectory("mount-probe").file("mnt")
        guard let disk = try? SmallFileSystem(probe, megabytes: 1) else { return false }
        disk.unmount()
        return true
    }()

    init(_ path: String, megabytes: Int) throws {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        self.path = path
        try Self.mount(["-t", "tmpfs", "-o", "size=\(megabytes)m", "tmpfs", path])
    }

    func resize(megabytes: Int) throws {
        try Self.mount(["-o", "remount,size=\(megabytes)m", path])
    }

    func makeReadOnly() throws {
        try Self.mount(["-o", "remount,ro", path])
    }

    func unmount() {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/umount")
        process.arguments = [path]
        try? process.run()
        process.waitUntilExit()
    }

    private static func mount(_ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/mount")
        process.arguments = arguments
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw MountFailed(arguments: arguments) }
    }

    struct MountFailed: Error {
        let arguments: [String]
    }
}

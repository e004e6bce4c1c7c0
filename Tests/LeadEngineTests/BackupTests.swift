import EventLog
import Foundation
import LeadDomain
import LeadEngine
import LedgerJSON
import LMDB
import Reports
import Synchronization
import Testing
import TestSupport

@Suite("Backup and restore of a store")
struct BackupTests {
    static func generated(leads: Int, seed: UInt64 = 7) -> [Envelope] {
        var events: [Envelope] = []
        Generator(leads: leads, seed: seed).generate { events.append($0) }
        return events
    }

    /// Every record of the log: position, id, stream, payload and chain hash.
    static func records(_ log: EventLog, through end: UInt64 = .max) throws -> [StoredRecord] {
        var records: [StoredRecord] = []
        try log.forEach(through: end) { records.append($0.copy()) }
        return records
    }

    func attribution(_ store: LeadStore) throws -> JSONValue {
        var accumulator = AttributionAccumulator(settings: AttributionSettings(model: .wShaped, by: .campaign))
        try store.forEachJourney { _, journey in accumulator.add(journey) }
        let names = try store.dimensionNames()
        return ReportRenderer.json(accumulator.report { names[$0] ?? "?" })
    }

    @Test func aRestoredBackupHoldsTheSameLogProjectionsAndReports() throws {
        let test = try TestStore("backup")
        try test.append(Self.generated(leads: 150))
        let keys = try test.directory.write("store/keys.json", #"{"keys": []}"#)
        let backup = test.directory.file("backups/one")
        let manifest = try test.store.backup(into: backup)

        let tip = try test.store.log.tip
        #expect(manifest.position == tip.position)
        #expect(manifest.hash == tip.hash)
        #expect(manifest.source == test.store.log.environment.path)
        #expect(manifest.files.map(\.name) == ["data.mdb", "log.head", "keys.json"])
        let listed = try FileManager.default.contentsOfDirectory(atPath: backup).sorted()
        #expect(listed == ["data.mdb", "keys.json", "log.head", "manifest.json"])
        #expect(try Data(contentsOf: URL(fileURLWithPath: backup + "/keys.json")) == Data(contentsOf: URL(fileURLWithPath: keys)))
        #expect(try BackupManifest.read(directory: backup) == manifest)
        // Nothing is left beside it (the staging directory was renamed).
        #expect(try FileManager.default.contentsOfDirectory(atPath: test.directory.file("backups")) == ["one"])

        let restoredPath = test.directory.file("restored")
        let report = try StoreRestore.restore(from: backup, into: restoredPath, deep: true)
        #expect(report.events == tip.position)
        let restored = try LeadStore(path: restoredPath, options: .reading)
        defer { restored.close() }
        #expect(try restored.log.tip == tip)
        #expect(try Self.records(restored.log) == Self.records(test.store.log))
        let (mine, theirs) = (try restored.projectionSnapshot(), try test.store.projectionSnapshot())
        #expect(mine.count == theirs.count)
        #expect(zip(mine, theirs).allSatisfy { $0.key == $1.key && $0.value == $1.value })
        #expect(try attribution(restored) == attribution(test.store))
        #expect(try restored.log.verify().isValid)
    }

    @Test func aBackupTakenWhileAWriterAppendsRestoresToAPrefixOfTheLog() throws {
        let test = try TestStore("backup-live")
        let events = Self.generated(leads: 1_500, seed: 11)
        let batches = stride(from: 0, to: events.count, by: 50).map { Array(events[$0..<min($0 + 50, events.count)]) }
        try test.append(batches[0])
        let store = test.store
        let done = BackupFlag()
        let writer = Thread {
            // Until the backup is written (the last batch kept back), then one more batch:
            // the log grows past the backup's end.
            var next = 1
            while !done.value.load(ordering: .acquiring), next < batches.count - 1 {
                _ = try? store.append(batches[next])
                next += 1
            }
            while !done.value.load(ordering: .acquiring) { usleep(1_000) }
            _ = try? store.append(batches[batches.count - 1])
            done.finished.signal()
        }
        writer.start()
        // Let the writer get going before the copy starts.
        while try store.log.lastPosition < 500 { usleep(1_000) }
        let before = try store.log.lastPosition
        let backup = test.directory.file("backup")
        let manifest: BackupManifest
        do {
            defer { done.value.store(true, ordering: .releasing) }
            manifest = try store.backup(into: backup)
        }
        done.finished.wait()
        let after = try store.log.lastPosition
        #expect(manifest.position >= before)
        #expect(manifest.position < after)

        let restoredPath = test.directory.file("restored")
        let report = try StoreRestore.restore(from: backup, into: restoredPath, deep: true)
        #expect(report.events == manifest.position)
        let restored = try LeadStore(path: restoredPath, options: .reading)
        defer { restored.close() }
        // The same records as the source up to the backup's end, and projections equal to a
        // replay of them (restore's deep verify).
        #expect(try Self.records(restored.log) == Self.records(store.log, through: manifest.position))
        #expect(try restored.log.tip.hash == manifest.hash)
    }

    @Test func theTargetMustBeNewOrEmpty() throws {
        let test = try TestStore("backup-target")
        try test.append(Self.generated(leads: 5))
        let occupied = test.directory.file("occupied")
        try FileManager.default.createDirectory(atPath: occupied, withIntermediateDirectories: true)
        try test.directory.write("occupied/notes.txt", "mine")
        #expect(throws: BackupError.targetNotEmpty(occupied)) { try test.store.backup(into: occupied) }
        try test.directory.write("plain-file", "x")
        #expect(throws: BackupError.targetNotDirectory(test.directory.file("plain-file"))) { try test.store.backup(into: test.directory.file("plain-file")) }
        // An empty directory is filled.
        let empty = test.directory.file("empty")
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        let manifest = try test.store.backup(into: empty)
        #expect(try BackupManifest.read(directory: empty) == manifest)

        // A restore refuses a store that holds anything, and leaves it as it was.
        #expect(throws: BackupError.targetNotEmpty(occupied)) { try StoreRestore.restore(from: empty, into: occupied) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: occupied) == ["notes.txt"])
        let storeDirectory = test.store.log.environment.path
        #expect(throws: BackupError.targetNotEmpty(storeDirectory)) { try StoreRestore.restore(from: empty, into: storeDirectory) }
    }

    /// A backup, and a function that restores it into a fresh directory.
    final class Tampering: @unchecked Sendable {
        let test: TestStore
        let backup: String
        let manifest: BackupManifest
        init() throws {
            test = try TestStore("backup-tamper")
            try test.append(BackupTests.generated(leads: 40))
            try test.directory.write("store/keys.json", #"{"keys": []}"#)
            backup = test.directory.file("backup")
            manifest = try test.store.backup(into: backup)
        }

        func restore() throws {
            _ = try StoreRestore.restore(from: backup, into: test.directory.file("restored"))
        }

        /// Nothing of a refused restore is left.
        func nothingRestored() throws -> Bool {
            let names = try FileManager.default.contentsOfDirectory(atPath: test.directory.path)
            return !names.contains { $0 == "restored" || $0.hasPrefix(".restored") }
        }

        func file(_ name: String) -> String { backup + "/" + name }
    }

    @Test func aChangedByteInTheDataFileIsRefusedByItsHash() throws {
        let fixture = try Tampering()
        let path = fixture.file("data.mdb")
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        bytes[bytes.count / 2] ^= 0x01
        try bytes.write(to: URL(fileURLWithPath: path))
        let listed = try #require(fixture.manifest.files.first { $0.name == "data.mdb" })
        #expect(throws: BackupError.self) { try fixture.restore() }
        do {
            try fixture.restore()
        } catch let error as BackupError {
            guard case .hashDiffers(let named, let found, let expected) = error else { Issue.record("\(error)"); return }
            #expect(named == path)
            #expect(expected == listed.sha256)
            #expect(found != expected)
            #expect(error.description.contains("data.mdb has SHA-256"))
        }
        #expect(try fixture.nothingRestored())
    }

    @Test func aCutOrMissingFileIsRefusedByName() throws {
        let fixture = try Tampering()
        let keys = fixture.file("keys.json")
        try "{}".write(toFile: keys, atomically: true, encoding: .utf8)
        let listed = try #require(fixture.manifest.files.first { $0.name == "keys.json" })
        #expect(throws: BackupError.sizeDiffers(path: keys, found: 2, expected: listed.bytes)) { try fixture.restore() }
        try FileManager.default.removeItem(atPath: fixture.file("log.head"))
        #expect(throws: BackupError.missingFile(backup: fixture.backup, name: "log.head")) { try fixture.restore() }
        #expect(try fixture.nothingRestored())
    }

    @Test func aMissingOrDamagedManifestIsRefused() throws {
        let fixture = try Tampering()
        let path = fixture.file("manifest.json")
        let original = try String(contentsOfFile: path, encoding: .utf8)
        func refusal(_ text: String?) throws -> String {
            if let text { try text.write(toFile: path, atomically: true, encoding: .utf8) } else { try FileManager.default.removeItem(atPath: path) }
            defer { try? original.write(toFile: path, atomically: true, encoding: .utf8) }
            do {
                try fixture.restore()
                return "restored"
            } catch {
                return String(describing: error)
            }
        }
        #expect(try refusal(nil).contains("holds no manifest.json"))
        #expect(try refusal("{\"format\": \"leadledger-backup\"").contains("it is not JSON"))
        #expect(try refusal(original.replacingOccurrences(of: "\"version\": 1", with: "\"version\": 9")).contains("version is 9"))
        #expect(try refusal(original.replacingOccurrences(of: "\"sha256\": \"", with: "\"sha256\": \"x")).contains("files[0].sha256 is not 64 lowercase hex digits"))
        #expect(try refusal(original.replacingOccurrences(of: "\"name\": \"data.mdb\"", with: "\"name\": \"../data.mdb\"")).contains("files[0].name \"../data.mdb\" is not a file name"))
        // A manifest that names another end of the log than the copy holds: the files check
        // out, verify passes, and the tip does not.
        let otherHash = String(repeating: "0", count: 64)
        let moved = original.replacingOccurrences(of: fixture.manifest.hash, with: otherHash)
        #expect(try refusal(moved).contains("the restored log ends at position \(fixture.manifest.position), hash \(fixture.manifest.hash), but the manifest says position \(fixture.manifest.position), hash \(otherHash)"))
        #expect(try fixture.nothingRestored())
        #expect(try refusal(original) == "restored")
    }
}

private final class BackupFlag: Sendable {
    let value = Atomic<Bool>(false)
    let finished = DispatchSemaphore(value: 0)
}

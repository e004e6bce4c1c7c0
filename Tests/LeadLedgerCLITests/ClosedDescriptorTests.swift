import Foundation
import LedgerJSON
import Testing
import TestSupport

/// A standard descriptor closed by the caller (`leadledger ingest <&-`) would be the number of
/// the next file opened — LMDB's lock file — which would then be read as input, or written
/// as output. The process occupies closed ones with /dev/null first thing, and `ingest` from
/// standard input refuses to read a closed one.
@Suite("leadledger with standard descriptors closed")
struct ClosedDescriptorTests {
    static let lines = [Events.captured("L-1"), Events.touch("L-1", id: "t-1", at: "2026-03-02T10:00:00Z")].map(Events.line).joined(separator: "\n") + "\n"

    @Test(arguments: [["ingest"], ["ingest", "-"], ["ingest", "--format", "csv"], ["ingest", "-", "--format", "csv"]])
    func ingestFromAClosedStandardInputFailsAndStoresNothing(arguments: [String]) throws {
        let dir = TemporaryDirectory("closed-fd")
        let store = dir.file("store")
        // (A store that exists, so that its lock file is opened if anything opens it.)
        let input = try dir.write("events.jsonl", Self.lines)
        #expect(try LeadLedgerBinary.run(["ingest", input, "--store", store]).status == 0)
        let result = try LeadLedgerBinary.runWithClosed([0], arguments + ["--store", store], directory: dir.path)
        #expect(result.status == 1, "\(result.stderr)")
        #expect(result.stderr.contains("standard input is closed"), "\(result.stderr)")
        let verify = try LeadLedgerBinary.run(["verify", "--store", store])
        #expect(verify.status == 0)
        #expect(verify.stdout.contains("ok: 2 events"), "\(verify.stdout)")
        #expect(!FileManager.default.fileExists(atPath: dir.file("stdin.rejects.jsonl")))
    }

    /// With stdin closed, commands that do not read it work as usual.
    @Test func aFileIsIngestedAndReadAsUsualWithStandardInputClosed() throws {
        let dir = TemporaryDirectory("closed-fd")
        let store = dir.file("store")
        let input = try dir.write("events.jsonl", Self.lines)
        let ingest = try LeadLedgerBinary.runWithClosed([0], ["ingest", input, "--store", store, "--format", "json"])
        #expect(ingest.status == 0, "\(ingest.stderr)")
        #expect(try JSONParser.parse(ingest.stdout.trimmingCharacters(in: .whitespacesAndNewlines))["appended"] == 2)
        let show = try LeadLedgerBinary.runWithClosed([0], ["lead", "show", "L-1", "--store", store, "--format", "json"])
        #expect(show.status == 0, "\(show.stderr)")
        #expect(try JSONParser.parse(show.stdout.trimmingCharacters(in: .whitespacesAndNewlines))["lead"] == "L-1")
    }

    /// With stdout (or stderr) closed, what would be printed must not land in a store file
    /// (before, `ingest 2>&-` wrote "1 line(s) rejected; see …" over the start of lock.mdb):
    /// it goes nowhere, and the store stays sound.
    @Test(arguments: [Set<Int32>([1]), [2], [1, 2], [0, 1, 2]])
    func closedOutputsDoNotWriteIntoTheStore(closed: Set<Int32>) throws {
        let dir = TemporaryDirectory("closed-fd")
        let store = dir.file("store")
        let input = try dir.write("events.jsonl", Self.lines + "not an event\n")
        let ingest = try LeadLedgerBinary.runWithClosed(closed, ["ingest", input, "--store", store])
        #expect(ingest.status == 2, "\(ingest.stderr)")
        for file in ["data.mdb", "lock.mdb"] {
            let bytes = try Data(contentsOf: URL(fileURLWithPath: (store as NSString).appendingPathComponent(file)))
            #expect(bytes.range(of: Data("rejected".utf8)) == nil, "\(file) holds the command's output")
        }
        for arguments in [["report", "funnel"], ["lead", "history", "L-1"], ["verify"], ["audit", "--format", "json"]] {
            #expect(try LeadLedgerBinary.runWithClosed(closed, arguments + ["--store", store]).status == 0, "\(arguments)")
        }
        let verify = try LeadLedgerBinary.run(["verify", "--store", store])
        #expect(verify.status == 0, "\(verify.stdout) \(verify.stderr)")
        #expect(verify.stdout.contains("ok: 2 events"), "\(verify.stdout)")
    }
}

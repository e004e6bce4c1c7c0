import EventLog
import EventTranscoder
import Foundation
import LeadDomain
import LeadEngine
import LedgerJSON
import Testing
import TestSupport

/// JSONL ingest takes `EventTranscoder` for simple lines and the general path for the rest;
/// what ends up stored must not depend on which path a line took.
@Suite("Ingest: the fast path stores what the general path stores")
struct IngestTests {
    /// What the log holds, less the commit times and the hashes that chain them.
    func logContents(_ store: LeadStore) throws -> [[String]] {
        try store.log.records(from: 1, limit: Int(store.log.lastPosition)).map {
            [$0.id, $0.stream, $0.payload.map { String($0, radix: 16) }.joined(separator: " ")]
        }
    }

    /// Appends every line as ingest did before the fast path: parsed, validated, attached.
    func appendThroughTheGeneralPath(_ lines: [String], to store: LeadStore) throws {
        var events: [Envelope] = []
        for line in lines {
            var line = line
            if let event = try? line.withUTF8({ try Ingestor.parseJSONLine(UnsafeRawBufferPointer($0)) }) {
                events.append(event)
            }
        }
        _ = try store.append(events)
    }

    @Test func aGeneratedFileStoresTheSameLogAndProjectionAsTheGeneralPath() throws {
        let dir = TemporaryDirectory("ingest")
        let generator = Generator(leads: 300, seed: 19)
        let input = dir.file("events.jsonl")
        let count = try generator.write(to: input)
        let lines = try String(contentsOfFile: input, encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(lines.allSatisfy { EventTranscoder.transcode($0) != nil })

        let fast = try TestStore("fast")
        let rejects = RejectWriter(path: dir.file("rejects.jsonl"))
        // Several batches, so the projection is built across commits as in a real ingest.
        let summary = try Ingestor(store: fast.store, batchSize: 1_000).ingest(path: input, rejects: rejects)
        #expect(summary.appended == count)
        #expect(summary.rejected == 0)

        let reference = try TestStore("general")
        try appendThroughTheGeneralPath(lines, to: reference.store)
        #expect(try logContents(fast.store) == logContents(reference.store))
        let projection = try fast.store.projectionSnapshot()
        let expected = try reference.store.projectionSnapshot()
        #expect(projection.map(\.key) == expected.map(\.key))
        #expect(projection.map(\.value) == expected.map(\.value))
    }

    @Test func linesForTheGeneralPathAndRejectsAreHandledAsBefore() throws {
        let dir = TemporaryDirectory("ingest")
        let lines = [
            Events.line(Events.captured("L-1")),  // fast
            #"{"id":"t-1","type":"touch.chat","lead":"L-1","at":"2026-03-02T10:00:00Z","data":{"channel":"chat","campaign":"Zoë's \"Q1\""}}"#,  // general
            #"{"id":"t-2","type":"touch.chat","lead":"L-1","at":"2026-03-32T10:00:00Z","data":{"channel":"chat"}}"#,  // bad at
            #"{"id":"t-3","type":"touch.chat","lead":"$L-1","at":"2026-03-02T10:00:00Z","data":{"channel":"chat"}}"#,  // reserved lead
            #"{"id":"a-1","type":"sales.accepted","lead":"L-1","at":"2026-03-03T10:00:00Z","actor":"ae"}"#,  // fast, refused by the lifecycle
            #"{"id":"t-4","type":"touch.chat","lead":"L-1","at":"2026-03-04T10:00:00Z","data":{"channel":"chat","utm":{"source":"x"}}}"#,  // general
        ]
        #expect(lines.map { EventTranscoder.transcode($0) != nil } == [true, false, false, false, true, false])
        let input = try dir.write("mixed.jsonl", lines.joined(separator: "\n"))
        let fast = try TestStore("fast")
        let rejectsPath = dir.file("rejects.jsonl")
        let rejects = RejectWriter(path: rejectsPath)
        let summary = try Ingestor(store: fast.store).ingest(path: input, rejects: rejects)
        try rejects.close()
        #expect(summary.appended == 3)
        #expect(summary.rejected == 3)

        let rejected = try String(contentsOfFile: rejectsPath, encoding: .utf8)
            .split(separator: "\n").map { try JSONParser.parse(String($0)) }
        #expect(rejected.map { $0["line"] } == [.number(3), .number(4), .number(5)])
        // The messages are the general path's.
        func generalError(_ line: String) -> String? {
            var line = line
            do {
                _ = try line.withUTF8 { try Ingestor.parseJSONLine(UnsafeRawBufferPointer($0)) }
                return nil
            } catch {
                return "\(error)"
            }
        }
        #expect(rejected[0]["reason"]?.stringValue == generalError(lines[2]))
        #expect(rejected[1]["reason"]?.stringValue == generalError(lines[3]))
        #expect(rejected[2]["reason"]?.stringValue?.contains("sales.accepted \"a-1\"") == true)
        #expect(rejected.map { $0["input"]?.stringValue } == [lines[2], lines[3], lines[4]])

        let reference = try TestStore("general")
        try appendThroughTheGeneralPath(lines, to: reference.store)
        #expect(try logContents(fast.store) == logContents(reference.store))
        #expect(try fast.store.projectionSnapshot().map(\.value) == reference.store.projectionSnapshot().map(\.value))
    }

    /// Batches are transcoded on several threads but reach the log in input order: the log
    /// and the projection do not depend on how many threads transcoded, or how finely the
    /// input was cut.
    @Test func theLogDoesNotDependOnHowManyThreadsTranscode() throws {
        let dir = TemporaryDirectory("ingest")
        let input = dir.file("events.jsonl")
        let count = try Generator(leads: 300, seed: 23).write(to: input)
        var logs: [[[String]]] = []
        var projections: [[[UInt8]]] = []
        for (transcoders, batchSize) in [(1, 20_000), (4, 57), (2, 1)] {
            let test = try TestStore("threads-\(transcoders)")
            let ingestor = Ingestor(store: test.store, batchSize: batchSize)
            ingestor.transcoders = transcoders
            let summary = try ingestor.ingest(path: input, rejects: RejectWriter(path: dir.file("rejects-\(transcoders).jsonl")))
            #expect(summary.appended == count)
            logs.append(try logContents(test.store))
            projections.append(try test.store.projectionSnapshot().flatMap { [$0.key, $0.value] })
        }
        // (Compared as a whole: a failure prints which run differs, not every row.)
        #expect(logs.map { $0 == logs[0] } == [true, true, true])
        #expect(projections.map { $0 == projections[0] } == [true, true, true])
    }

    /// Lines refused while parsing (by a transcoder) and lines refused by the log (when the
    /// batch is stored) go to the rejects file together, in line order, across batches.
    @Test func refusedLinesAreWrittenInLineOrderWhateverRefusedThem() throws {
        let dir = TemporaryDirectory("ingest")
        var lines: [String] = []
        var refusedLines: [Int] = []
        for index in 1...120 {
            let lead = "L-\(index)"
            switch index % 4 {
            case 0:  // not JSON: refused by a transcoder
                lines.append(#"{"id":"x-\#(index)","type":"#)
                refusedLines.append(lines.count)
            case 1:  // refused by the lifecycle, when stored: accepted before any capture
                lines.append(Events.line(Events.event(.salesAccepted, lead, id: "a-\(index)", at: "2026-03-03T10:00:00Z", actor: "ae")))
                refusedLines.append(lines.count)
            default:
                lines.append(Events.line(Events.captured(lead, id: "c-\(index)")))
            }
            if index % 10 == 0 { lines.append("   ") }  // blank: not counted, not refused
        }
        let input = try dir.write("mixed.jsonl", lines.joined(separator: "\n"))
        let test = try TestStore()
        let rejectsPath = dir.file("rejects.jsonl")
        let rejects = RejectWriter(path: rejectsPath)
        let ingestor = Ingestor(store: test.store, batchSize: 7)
        ingestor.transcoders = 3
        let summary = try ingestor.ingest(path: input, rejects: rejects)
        try rejects.close()
        #expect(summary.lines == 120)
        #expect(summary.rejected == 60)
        #expect(summary.appended == 60)
        let rejected = try String(contentsOfFile: rejectsPath, encoding: .utf8)
            .split(separator: "\n").map { try JSONParser.parse(String($0)) }
        #expect(rejected.map { $0["line"] } == refusedLines.map { .number(Double($0)) })
        #expect(rejected.map { $0["input"]?.stringValue } == refusedLines.map { lines[$0 - 1] })
    }
}

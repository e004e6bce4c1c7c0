import EventLog
import Foundation
import Testing
import TestSupport

@Suite("Event log verification")
struct VerifyTests {
    /// Flips one byte of the file `data.mdb` at the first occurrence of `marker`.
    func corrupt(_ dir: TemporaryDirectory, at marker: String, offset: Int = 0) throws {
        let path = dir.file("data.mdb")
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        let needle = Array(marker.utf8)
        guard let index = (0...(bytes.count - needle.count)).first(where: { bytes[$0..<$0 + needle.count].elementsEqual(needle) }) else {
            Issue.record("marker \(marker) not found in data.mdb")
            return
        }
        bytes[index + offset] ^= 0x01
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    @Test func anIntactLogVerifies() throws {
        let dir = TemporaryDirectory("verify")
        let log = try EventLog(path: dir.path)
        defer { log.close() }
        _ = try log.appendAndWait((1...500).map { record("e\($0)", stream: "L-\($0 % 9)") })
        let report = try log.verify(chunkSize: 37)
        #expect(report == VerificationReport(records: 500, failure: nil))
    }

    @Test func changingOneByteOfAPayloadBreaksTheChainAtThatPosition() throws {
        let dir = TemporaryDirectory("verify")
        do {
            let log = try EventLog(path: dir.path)
            _ = try log.appendAndWait((1...200).map { record("e\($0)", payload: $0 == 123 ? "MARKER-PAYLOAD-123" : "ordinary \($0)") })
            log.close()
        }
        try corrupt(dir, at: "MARKER-PAYLOAD-123", offset: 7)
        let log = try EventLog(path: dir.path)
        defer { log.close() }
        let report = try log.verify()
        #expect(report.failure?.position == 123)
        #expect(report.failure?.reason.contains("hash chain") == true)
    }

    @Test func changingOneByteOfAnIDIsCaught() throws {
        let dir = TemporaryDirectory("verify")
        do {
            let log = try EventLog(path: dir.path)
            _ = try log.appendAndWait([record("first"), record("UNIQUE-ID-XYZ"), record("third")])
            log.close()
        }
        // The id appears in the record and as a key of the id index; the record comes first
        // in the file or not — either way verification must fail.
        try corrupt(dir, at: "UNIQUE-ID-XYZ", offset: 3)
        let log = try EventLog(path: dir.path)
        defer { log.close() }
        let report = try log.verify()
        #expect(report.isValid == false)
    }
}

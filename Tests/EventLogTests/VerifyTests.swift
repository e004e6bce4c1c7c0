import Crypto
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

@Suite("Hash chain: the documented layout, hashed independently")
struct ChainLayoutTests {
    /// Every record's hash is SHA-256(previous hash ‖ position, big-endian ‖ format version ‖
    /// recordedAt, little-endian ‖ id length ‖ id ‖ stream length ‖ stream ‖ payload), as the
    /// README documents — recomputed here with swift-crypto, whatever the log hashed with
    /// (the CPU's SHA extensions where it has them), for payloads across SHA-256's block
    /// boundaries.
    @Test func everyStoredHashIsSHA256OfTheDocumentedInput() throws {
        let dir = TemporaryDirectory("log")
        let log = try EventLog(path: dir.path)
        defer { log.close() }
        let lengths = Array(0...200) + [255, 256, 1_000, 4_096, 70_000]
        let records = lengths.map { length in
            PendingRecord(id: "id-\(length)", stream: "L-\(length % 7)", payload: (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ length) })
        }
        _ = try log.appendAndWait(Array(records.prefix(100)))
        _ = try log.appendAndWait(Array(records.dropFirst(100)))
        var previous = [UInt8](repeating: 0, count: 32)
        for stored in try log.records(from: 1, limit: records.count) {
            var input = previous
            withUnsafeBytes(of: stored.position.bigEndian) { input += $0 }
            input.append(1)
            withUnsafeBytes(of: stored.recordedAt.littleEndian) { input += $0 }
            withUnsafeBytes(of: UInt16(stored.id.utf8.count).littleEndian) { input += $0 }
            input += Array(stored.id.utf8)
            withUnsafeBytes(of: UInt16(stored.stream.utf8.count).littleEndian) { input += $0 }
            input += Array(stored.stream.utf8)
            input += stored.payload
            let expected = Array(SHA256.hash(data: input))
            #expect(stored.hash == expected, "position \(stored.position), payload of \(stored.payload.count) bytes")
            previous = stored.hash
        }
        #expect(try log.verify().isValid)
    }
}

import Foundation
import LeadDomain
import LedgerJSON
import Testing
import TestSupport

/// The JSON Schemas in `Schemas/` are the contract: the engine must accept exactly the
/// examples the schemas accept and refuse the ones they refuse (`tools/check-schemas.py`
/// checks the same examples with a real JSON Schema validator).
@Suite("Schema contract: the engine agrees with Schemas/examples")
struct SchemaContractTests {
    static func files(_ folder: String) -> [String] {
        SchemaExamples.files(folder)
    }

    func decode(_ path: String) throws -> Envelope {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        return try Envelope(json: JSONParser.parse(text))
    }

    @Test func thereAreExamplesForEveryType() throws {
        let valid = try Self.files("valid").map(decode)
        #expect(Set(valid.map(\.type)) == Set(EventType.allCases))
        #expect(Self.files("invalid").count >= 20)
    }

    @Test(arguments: files("valid"))
    func theEngineAcceptsEveryValidExample(path: String) throws {
        let event = try decode(path)
        // And what it stores renders back to an equivalent event.
        let payload = EventCodec.encode(event)
        let stored = try payload.withUnsafeBytes { try EventCodec.decode($0, id: event.id, lead: event.stream) }
        #expect(stored == event)
    }

    @Test(arguments: files("invalid"))
    func theEngineRefusesEveryInvalidExample(path: String) throws {
        #expect(throws: (any Error).self, "\((path as NSString).lastPathComponent) was accepted") {
            _ = try decode(path)
        }
    }
}

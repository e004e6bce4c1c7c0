import EventLog
import Foundation
import Hummingbird
import HummingbirdTesting
import LeadEngine
import LeadServer
import LedgerJSON
import Logging
import Testing
import TestSupport

@Suite("Server: POST /v1/admin/backup")
struct BackupRouteTests {
    static func application(_ fixture: ServerTests.Fixture, backupDirectory: String?) -> some ApplicationProtocol {
        var configuration = ServerConfiguration()
        configuration.backupDirectory = backupDirectory
        return buildApplication(configuration, store: fixture.test.store, keys: fixture.keys, logger: Logger(label: "test"))
    }

    static func post(_ client: some TestClientProtocol, key: String, body: String? = nil, _ check: @escaping @Sendable (TestResponse) throws -> Void) async throws {
        try await client.execute(
            uri: "/v1/admin/backup", method: .post,
            headers: [.authorization: "Bearer \(key)", .contentType: "application/json"],
            body: body.map { ByteBuffer(string: $0) }
        ) { try check($0) }
    }

    @Test func anAdminWritesABackupUnderTheBackupDirectoryThatRestores() async throws {
        let fixture = try ServerTests.Fixture()
        try fixture.test.append(ServerTests.events)
        let root = fixture.test.directory.file("backups")
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        try await Self.application(fixture, backupDirectory: root).test(.router) { client in
            try await Self.post(client, key: fixture.adminKey, body: #"{"name": "nightly-1"}"#) { response throws in
                #expect(response.status == .created)
                let body = try ServerTests.json(response)
                #expect(body["name"] == "nightly-1")
                #expect(body["position"] == 3)
                #expect(body["path"]?.stringValue?.hasSuffix("/backups/nightly-1") == true)
                #expect(body["files"]?.arrayValue?.compactMap { $0["name"]?.stringValue } == ["data.mdb", "log.head", "keys.json"])
            }
            // The same name again: the directory exists.
            try await Self.post(client, key: fixture.adminKey, body: #"{"name": "nightly-1"}"#) { response throws in
                #expect(response.status == .conflict)
                #expect(try ServerTests.json(response)["detail"]?.stringValue?.contains("nightly-1 exists") == true)
            }
            // No body: a name from the time.
            try await Self.post(client, key: fixture.adminKey) { response throws in
                #expect(response.status == .created)
                #expect(try ServerTests.json(response)["name"]?.stringValue?.hasPrefix("backup-") == true)
            }
        }
        let restored = fixture.test.directory.file("restored")
        let report = try StoreRestore.restore(from: root + "/nightly-1", into: restored)
        #expect(report.events == 3)
        #expect(try report.manifest.hash == fixture.test.store.log.tip.hash)
        // The keys came along: the restored store can be served with the same keys.
        #expect(try KeyStore(directory: restored).list().map(\.name) == ["analyst", "ops", "tracker"])
        // Readable by their owner only, as in the store.
        for path in [root + "/nightly-1/keys.json", restored + "/keys.json"] {
            #expect(try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber == 0o600, "\(path)")
        }
    }

    @Test func onlyAnAdminMayBackUp() async throws {
        let fixture = try ServerTests.Fixture()
        let root = fixture.test.directory.file("backups")
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        try await Self.application(fixture, backupDirectory: root).test(.router) { client in
            for key in [fixture.readKey, fixture.ingestKey] {
                try await Self.post(client, key: key, body: #"{"name": "x"}"#) { response throws in
                    #expect(response.status == .forbidden)
                    #expect(try ServerTests.json(response)["detail"]?.stringValue?.contains("this route needs admin") == true)
                }
            }
            try await client.execute(uri: "/v1/admin/backup", method: .post) { #expect($0.status == .unauthorized) }
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: root).isEmpty)
    }

    @Test func withoutABackupDirectoryTheRouteIsRefused() async throws {
        let fixture = try ServerTests.Fixture()
        try await Self.application(fixture, backupDirectory: nil).test(.router) { client in
            try await Self.post(client, key: fixture.adminKey, body: #"{"name": "x"}"#) { response throws in
                #expect(response.status == .forbidden)
                #expect(try ServerTests.json(response)["detail"]?.stringValue?.contains("--backup-dir") == true)
            }
        }
    }

    @Test func namesThatLeaveTheBackupDirectoryAreRefused() async throws {
        let fixture = try ServerTests.Fixture()
        let root = fixture.test.directory.file("backups")
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        try await Self.application(fixture, backupDirectory: root).test(.router) { client in
            for name in ["../escape", "..", ".", "a/b", "/tmp/x", ".hidden", "", "sp ace", String(repeating: "n", count: 101)] {
                try await Self.post(client, key: fixture.adminKey, body: JSONWriter.render(["name": .string(name)])) { response throws in
                    #expect(response.status == .badRequest, "\(name)")
                    #expect(try ServerTests.json(response)["detail"]?.stringValue?.contains("is not a backup name") == true, "\(name)")
                }
            }
            for (body, detail) in [
                (#"{"name": 7}"#, "name is a number, not a string"), (#"["x"]"#, "not an object"),
                (#"{"directory": "x"}"#, "unknown member \"directory\""), ("{", "the body is not JSON"),
            ] {
                try await Self.post(client, key: fixture.adminKey, body: body) { response throws in
                    #expect(response.status == .badRequest, "\(body)")
                    #expect(try ServerTests.json(response)["detail"]?.stringValue?.contains(detail) == true, "\(body)")
                }
            }
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: root).isEmpty)
        #expect(!FileManager.default.fileExists(atPath: fixture.test.directory.file("escape")))
    }
}

import Foundation
import LeadDomain
import LeadEngine
import LedgerJSON
import Testing
import TestSupport

/// `leadledger serve` as an operator runs it, over real HTTP with curl: keys, appends, reads,
/// the live stream and its resumption, a CLI write beside the server, graceful shutdown, and
/// a SIGKILL under load that loses no acknowledged event.
@Suite("leadledger serve over HTTP", .serialized, .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/curl")))
struct ServeCommandTests {
    /// A server on a free loopback port, stopped (SIGTERM) when the test is done with it.
    final class LiveServer: @unchecked Sendable {
        let process: Process
        let port: Int
        let store: String
        let errors: String

        init(store: String, directory: TemporaryDirectory) throws {
            self.store = store
            errors = directory.file("serve-\(UUID().uuidString.prefix(8)).stderr")
            var started: (Process, Int)?
            for _ in 0..<10 {
                let port = Int.random(in: 20_000...60_000)
                let process = try LeadLedgerBinary.start(["serve", "--store", store, "--port", "\(port)"])
                _ = FileManager.default.createFile(atPath: errors, contents: nil)
                process.standardError = FileHandle(forWritingAtPath: errors)
                process.standardOutput = FileHandle.nullDevice
                try process.run()
                // Ready when /healthz answers (or gone, if the port was taken).
                for _ in 0..<100 where process.isRunning {
                    if (try? ServeCommandTests.curl(["-sf", "http://127.0.0.1:\(port)/healthz"]))?.status == 0 {
                        started = (process, port)
                        break
                    }
                    usleep(50_000)
                }
                if started != nil { break }
                if process.isRunning { process.terminate() }
            }
            guard let (process, port) = started else { throw ServerDidNotStart() }
            self.process = process
            self.port = port
        }

        var url: String { "http://127.0.0.1:\(port)" }

        /// SIGTERM, then waits; returns the exit status.
        func stop() -> Int32 {
            process.terminate()
            process.waitUntilExit()
            return process.terminationStatus
        }
    }

    struct ServerDidNotStart: Error {}

    struct Output {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    static func curl(_ arguments: [String]) throws -> Output {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        process.arguments = arguments
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let out = output.fileHandleForReading.readDataToEndOfFile()
        let err = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Output(status: process.terminationStatus, stdout: String(decoding: out, as: UTF8.self), stderr: String(decoding: err, as: UTF8.self))
    }

    static func key(_ role: String, store: String) throws -> String {
        let created = try LeadLedgerBinary.run(["keys", "create", "--role", role, "--store", store])
        #expect(created.status == 0, "\(created.stderr)")
        return created.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func post(_ lines: [String], to server: LiveServer, key: String) throws -> JSONValue {
        let result = try curl([
            "-sf", "-X", "POST", server.url + "/v1/events", "-H", "Authorization: Bearer \(key)",
            "-H", "Content-Type: application/x-ndjson", "--data-binary", lines.joined(separator: "\n"),
        ])
        #expect(result.status == 0, "\(result.stderr)")
        return try JSONParser.parse(result.stdout)
    }

    static func lines(leads: Int, seed: UInt64) -> [String] {
        var lines: [String] = []
        Generator(leads: leads, seed: seed).generate { lines.append(Events.line($0)) }
        return lines
    }

    @Test func appendsReadsStreamsAndStopsGracefully() throws {
        let dir = TemporaryDirectory("serve")
        let store = dir.file("store")
        let ingestKey = try Self.key("ingest", store: store)
        let readKey = try Self.key("read", store: store)
        let server = try LiveServer(store: store, directory: dir)
        let lines = Self.lines(leads: 20, seed: 5)

        let first = try Self.post(Array(lines.prefix(50)), to: server, key: ingestKey)
        #expect(first["appended"] == 50)
        // The live stream: what is stored, then what lands while it is open.
        let streamed = dir.file("stream.sse")
        let stream = Process()
        stream.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        stream.arguments = ["-sN", server.url + "/v1/stream?after=10", "-H", "Accept: text/event-stream", "-H", "Authorization: Bearer \(readKey)", "-o", streamed]
        try stream.run()
        usleep(500_000)
        let second = try Self.post(Array(lines[50..<80]), to: server, key: ingestKey)
        #expect(second["appended"] == 30)
        usleep(500_000)

        // A CLI write says the store is served; a CLI read works beside the server.
        let write = try LeadLedgerBinary.run(["rebuild", "--store", store, "--no-wait"])
        #expect(write.status == 1)
        #expect(write.stderr.contains("serving \(server.url)"), "\(write.stderr)")
        let read = try LeadLedgerBinary.run(["verify", "--store", store])
        #expect(read.status == 0, "\(read.stderr)")

        // Graceful shutdown: every stream ends saying where to resume; exit 0.
        #expect(server.stop() == 0)
        stream.waitUntilExit()
        let text = try String(contentsOfFile: streamed, encoding: .utf8)
        let ids = text.split(separator: "\n").filter { $0.hasPrefix("id: ") }.compactMap { UInt64($0.dropFirst(4)) }
        #expect(ids == Array(11...80))
        #expect(text.contains("\"resumeAfter\":80"))
        // One structured line per request, written out by the time the server stopped:
        // request id, method, path, status and duration, never a key or a body.
        let log = try String(contentsOfFile: server.errors, encoding: .utf8)
        let posts = log.split(separator: "\n").filter { $0.contains(" request ") && $0.contains("path=/v1/events") }
        #expect(posts.count == 2, "\(log)")
        for line in posts {
            for field in ["hb.request.id=", "method=POST", "status=200", "ms="] { #expect(line.contains(field), "\(line)") }
        }
        #expect(!log.contains(ingestKey) && !log.contains(readKey) && !log.contains("lead.captured"))

        // A restarted server resumes the stream from Last-Event-ID, without loss or repeat.
        let again = try LiveServer(store: store, directory: dir)
        let resumed = try Self.curl(["-s", "-m", "2", again.url + "/v1/stream", "-H", "Last-Event-ID: 75", "-H", "Authorization: Bearer \(readKey)"])
        let positions = resumed.stdout.split(separator: "\n").compactMap { try? JSONParser.parse(String($0))["position"]?.doubleValue }
        #expect(positions == (76...80).map(Double.init))
        #expect(again.stop() == 0)
    }

    /// The dashboard in a real browser (headless Chromium): every chart drawn, nothing
    /// loaded from the network, the model selector working.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/chromium"), "needs Debian's chromium"))
    func theDashboardDrawsItsChartsInABrowser() throws {
        let dir = TemporaryDirectory("dashboard")
        let store = dir.file("store")
        let input = try dir.write("events.jsonl", Self.lines(leads: 300, seed: 3).joined(separator: "\n") + "\n")
        #expect(try LeadLedgerBinary.run(["ingest", input, "--store", store]).status == 0)
        let key = try Self.key("read", store: store)
        let server = try LiveServer(store: store, directory: dir)
        defer { _ = server.stop() }
        // Without a key: the browser is asked for credentials.
        let refused = try Self.curl(["-s", "-o", "/dev/null", "-w", "%{http_code}", server.url + "/"])
        #expect(refused.stdout == "401")

        let browser = Process()
        browser.executableURL = URL(fileURLWithPath: "/usr/bin/chromium")
        browser.arguments = [
            "--headless", "--no-sandbox", "--disable-gpu", "--user-data-dir=" + dir.file("chromium"),
            "--dump-dom", "http://viewer:\(key)@127.0.0.1:\(server.port)/?model=markov",
        ]
        let output = Pipe()
        browser.standardOutput = output
        browser.standardError = FileHandle.nullDevice
        try browser.run()
        let dom = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        browser.waitUntilExit()
        #expect(browser.terminationStatus == 0)
        for report in ["attribution", "funnel", "quality", "sla", "monthly"] {
            #expect(dom.contains("data-report=\"\(report)\""), "\(report) missing from the page")
        }
        #expect(dom.components(separatedBy: "<svg").count - 1 >= 5)
        #expect(dom.contains("<option value=\"markov\" selected"))
        #expect(dom.contains("markov model"))
        for external in ["src=\"http", "href=\"http", "<script", "<link", "url(http"] {
            #expect(!dom.contains(external), "the page loads \(external)")
        }
    }

    /// Posters keep sending while the server is killed with SIGKILL: after a restart, every
    /// event whose request was answered 200 is in the log, exactly once.
    @Test func aKilledServerKeepsEveryAcknowledgedEvent() throws {
        let dir = TemporaryDirectory("serve-kill")
        let store = dir.file("store")
        let key = try Self.key("ingest", store: store)
        let server = try LiveServer(store: store, directory: dir)
        let lines = Self.lines(leads: 400, seed: 9)
        let batches = stride(from: 0, to: lines.count, by: 200).map { Array(lines[$0..<min($0 + 200, lines.count)]) }

        let acknowledged = Mutex_<[String]>([])
        let group = DispatchGroup()
        for (index, batch) in batches.enumerated() {
            DispatchQueue.global().async(group: group) {
                usleep(UInt32(index) * 5_000)
                guard let answer = try? Self.curl([
                    "-sf", "-m", "10", "-X", "POST", server.url + "/v1/events", "-H", "Authorization: Bearer \(key)",
                    "-H", "Content-Type: application/x-ndjson", "--data-binary", batch.joined(separator: "\n"),
                ]), answer.status == 0, let json = try? JSONParser.parse(answer.stdout) else { return }
                let ids = (json["results"]?.arrayValue ?? []).filter { $0["status"] == "appended" || $0["status"] == "duplicate" }.compactMap { $0["id"]?.stringValue }
                acknowledged.withLock { $0 += ids }
            }
        }
        usleep(150_000)
        kill(server.process.processIdentifier, SIGKILL)
        server.process.waitUntilExit()
        group.wait()

        let restarted = try LiveServer(store: store, directory: dir)
        #expect(restarted.stop() == 0)
        let verify = try LeadLedgerBinary.run(["verify", "--store", store, "--format", "json"])
        #expect(verify.status == 0, "\(verify.stderr)")
        let audit = try LeadLedgerBinary.run(["audit", "--store", store, "--format", "json"])
        let stored = (try JSONParser.parse(audit.stdout)["rows"]?.arrayValue ?? []).compactMap { $0["id"]?.stringValue }
        #expect(Set(stored).count == stored.count)
        let missing = Set(acknowledged.withLock { $0 }).subtracting(stored)
        #expect(missing.isEmpty, "acknowledged but not stored: \(missing.prefix(5))")
    }
}

/// A value behind a lock, for the test's worker threads.
final class Mutex_<Value>: @unchecked Sendable {
    private var value: Value
    private let lock = NSLock()

    init(_ value: Value) {
        self.value = value
    }

    func withLock<R>(_ body: (inout Value) -> R) -> R {
        lock.lock()
        defer { lock.unlock() }
        return body(&value)
    }
}

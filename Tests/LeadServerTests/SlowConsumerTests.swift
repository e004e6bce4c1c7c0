import EventLog
import Foundation
import Hummingbird
import HummingbirdTesting
import LeadDomain
import LeadEngine
import LeadServer
import LedgerJSON
import Logging
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// A consumer of `/v1/stream` that stops reading, on a live server: appends keep committing,
/// and the stream lets the consumer go with where to resume.
@Suite("Server: a slow stream consumer never slows the writer")
struct SlowConsumerTests {
    /// Events of about 1 KiB, so that a few thousand fill the sockets' buffers (4 MiB at most
    /// for the server's send buffer here).
    static func batch(_ number: Int, size: Int) -> ByteBuffer {
        let padding = String(repeating: "x", count: 1_000)
        let events = (0..<size).map { index in
            Events.captured("S-\(number)-\(index)", extra: ["note": .string(padding)])
        }
        return ByteBuffer(string: "[" + events.map(Events.line).joined(separator: ",") + "]")
    }

    @Test(arguments: [false, true])
    func aConsumerThatStopsReadingIsLetGoWithWhereToResume(sse: Bool) async throws {
        let fixture = try ServerTests.Fixture()
        var limits = ServerConfiguration.Limits()
        limits.streamMaxLag = 100
        limits.streamStallTimeout = .seconds(2)
        let batches = 12, perBatch = 1_000
        try await fixture.application(limits: limits, port: 0).test(.live) { client in
            let port = try #require(client.port)
            let consumer = try RawHTTPConnection(port: port, receiveBuffer: 4_096)
            try consumer.send(
                "GET /v1/stream?after=0 HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer \(fixture.readKey)\r\nConnection: close\r\n"
                    + (sse ? "Accept: text/event-stream\r\n" : "") + "\r\n")
            // The consumer reads nothing while every batch is appended and acknowledged.
            for number in 0..<batches {
                try await client.execute(
                    uri: "/v1/events", method: .post,
                    headers: [.authorization: "Bearer \(fixture.ingestKey)", .contentType: "application/json"],
                    body: Self.batch(number, size: perBatch)
                ) { response in
                    #expect(response.status == .ok)
                    let appended = try ServerTests.json(response)["appended"]?.doubleValue
                    #expect(appended == Double(perBatch))
                }
            }
            // The server lets it go (bounded: a broken server fails here instead of hanging).
            var fellBehind = false
            for _ in 0..<600 where !fellBehind {
                try await Task.sleep(for: .milliseconds(50))
                fellBehind = try await client.execute(uri: "/metrics", method: .get) { response in
                    String(buffer: response.body).contains("leadledger_stream_fell_behind_total 1")
                }
            }
            #expect(fellBehind)
            // What the consumer then reads: events from position 1 without a gap, then the last
            // message with the position after its last event (if the consumer drained its
            // buffer in time; otherwise the connection closes after its last event).
            // (On a thread of its own: a blocking read on one of the concurrency pool's two
            // threads starved the server in this same process, and with both cases reading,
            // the server could not send the end they were waiting for.)
            let body = try await withCheckedThrowingContinuation { continuation in
                Thread { continuation.resume(with: Result { try consumer.readBodyToEnd() }) }.start()
            }
            let messages = sse ? Self.sseData(body) : body.split(separator: "\n").map(String.init)
            var positions: [UInt64] = []
            var resumeAfter: UInt64?
            for message in messages {
                let json = try JSONParser.parse(message)
                if let position = json["position"]?.doubleValue {
                    #expect(resumeAfter == nil, "an event after the last message")
                    positions.append(UInt64(position))
                } else {
                    #expect(json["error"] == "the consumer fell behind")
                    resumeAfter = json["resumeAfter"]?.doubleValue.map { UInt64($0) }
                }
            }
            #expect(positions == Array(1...UInt64(positions.count)))
            #expect(positions.count < batches * perBatch)
            if let resumeAfter { #expect(resumeAfter == UInt64(positions.count)) }
            // The writer is unaffected: the next append is acknowledged too.
            try await client.execute(
                uri: "/v1/events", method: .post,
                headers: [.authorization: "Bearer \(fixture.ingestKey)", .contentType: "application/json"],
                body: Self.batch(batches, size: 1)
            ) { #expect($0.status == .ok) }
        }
        #expect(try fixture.test.store.log.lastPosition == UInt64(batches * perBatch + 1))
    }

    /// The `data:` lines of Server-Sent Events.
    static func sseData(_ body: String) -> [String] {
        body.split(separator: "\n").filter { $0.hasPrefix("data: ") }.map { String($0.dropFirst(6)) }
    }
}

/// An HTTP/1.1 client on a plain socket, so that a test controls when (and whether) the
/// response is read; its receive buffer is set small before connecting.
final class RawHTTPConnection: @unchecked Sendable {
    private let socket: Int32

    init(port: Int, receiveBuffer: Int32) throws {
        socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
        var size = receiveBuffer
        setsockopt(socket, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        // A bound on each read, so that a server that never ends the response fails the test.
        var timeout = timeval(tv_sec: 60, tv_usec: 0)
        setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close(socket)
            throw POSIXError(.init(rawValue: errno) ?? .ECONNREFUSED)
        }
    }

    deinit { close(socket) }

    func send(_ text: String) throws {
        let bytes = Array(text.utf8)
        let sent = bytes.withUnsafeBytes { Glibc.send(socket, $0.baseAddress, $0.count, 0) }
        guard sent == bytes.count else { throw POSIXError(.EIO) }
    }

    /// Reads until the server closes the connection (the request said `Connection: close`)
    /// or resets it, and answers the response's body, de-chunked.
    func readBodyToEnd() throws -> String {
        var raw: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(socket, $0.baseAddress, $0.count, 0) }
            if count > 0 {
                raw += buffer[0..<count]
                // (The chunked body's last chunk ends the response, whether or not the
                // server closes the connection after it.)
                if raw.count >= 7 && Array(raw.suffix(7)) == Array("\r\n0\r\n\r\n".utf8) { break }
            } else if count == 0 || errno == ECONNRESET {
                break
            } else if errno != EINTR {
                throw POSIXError(.init(rawValue: errno) ?? .EIO)
            }
        }
        let separator = Array("\r\n\r\n".utf8)
        guard let headEnd = (0...(max(0, raw.count - 4))).first(where: { Array(raw[$0..<min(raw.count, $0 + 4)]) == separator }) else {
            throw POSIXError(.EBADMSG)
        }
        return String(decoding: Self.dechunk(raw[(headEnd + 4)...]), as: UTF8.self)
    }

    /// HTTP/1.1 chunked transfer coding, up to the last whole chunk.
    static func dechunk(_ bytes: ArraySlice<UInt8>) -> [UInt8] {
        var body: [UInt8] = []
        var index = bytes.startIndex
        while let lineEnd = bytes[index...].firstIndex(of: 0x0D), lineEnd + 1 < bytes.endIndex {
            guard let size = Int(String(decoding: bytes[index..<lineEnd], as: UTF8.self), radix: 16), size > 0 else { break }
            let start = lineEnd + 2
            guard start + size <= bytes.endIndex else { break }
            body += bytes[start..<(start + size)]
            index = start + size + 2
            guard index < bytes.endIndex else { break }
        }
        return body
    }
}

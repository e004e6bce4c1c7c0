import Foundation
import Hummingbird
import LedgerJSON

/// An error answered as `application/problem+json` (RFC 9457): `type`, `title`, `status` and
/// a `detail` that says what is wrong and where.
public struct Problem: Error, HTTPResponseError, CustomStringConvertible {
    public var status: HTTPResponse.Status
    public var detail: String
    /// Extra members (e.g. the index of the event that could not be read).
    public var extra: JSONObject = [:]
    public var headers: HTTPFields = [:]

    public init(_ status: HTTPResponse.Status, _ detail: String, extra: JSONObject = [:]) {
        self.status = status
        self.detail = detail
        self.extra = extra
    }

    public var description: String { "\(status.code) \(status.reasonPhrase): \(detail)" }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var object: JSONObject = [
            "type": "about:blank", "title": .string(status.reasonPhrase), "status": .integer(status.code),
            "detail": .string(detail),
        ]
        for (name, value) in extra { object[name] = value }
        var fields = headers
        fields[.contentType] = "application/problem+json"
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(string: JSONWriter.render(.object(object)))))
    }
}

/// Answers a JSON value.
func jsonResponse(_ value: JSONValue, status: HTTPResponse.Status = .ok) -> Response {
    var bytes: [UInt8] = []
    JSONWriter.write(value, into: &bytes)
    bytes.append(0x0A)
    return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
}

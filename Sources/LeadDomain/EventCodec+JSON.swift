import LedgerJSON

extension EventCodec {
    /// A stored event as JSON, written straight from its record's parts without building an
    /// `Envelope` or a `JSONValue`: the log's stream and pages send every event this way, and
    /// decoding each into a tree first cost more than the rest of the stream together. The
    /// bytes are exactly those `JSONWriter` writes for the decoded event (members `position`,
    /// `at`, `recordedAt`, `type`, `lead`, `actor`, `id`, `data`), which the tests check.
    public static func writeJSON(
        position: UInt64, recordedAt: Timestamp, id: UnsafeRawBufferPointer, lead: UnsafeRawBufferPointer,
        payload: UnsafeRawBufferPointer, opener: (any SealedValueOpener)? = nil, into out: inout [UInt8]
    ) throws(CodecError) {
        let (type, at) = try header(payload)
        var reader = Reader(bytes: payload, index: 10)
        out.append(contentsOf: #"{"position":"#.utf8)
        JSONWriter.writeInteger(Int64(truncatingIfNeeded: position), into: &out)
        out.append(contentsOf: #","at":""#.utf8)
        at.writeRFC3339(into: &out)
        out.append(contentsOf: #"","recordedAt":""#.utf8)
        recordedAt.writeRFC3339(into: &out)
        out.append(contentsOf: #"","type":"#.utf8)
        JSONWriter.writeString(type.rawValue, into: &out)
        out.append(contentsOf: #","lead":"#.utf8)
        if type.isLeadEvent {
            JSONWriter.writeString(utf8: lead, into: &out)
        } else {
            out.append(contentsOf: "null".utf8)
        }
        out.append(contentsOf: #","actor":"#.utf8)
        switch try reader.byte() {
        case Tag.null: out.append(contentsOf: "null".utf8)
        case Tag.string: JSONWriter.writeString(utf8: try reader.slice(count: try reader.varint()), into: &out)
        default: throw CodecError("actor is neither a string nor null")
        }
        out.append(contentsOf: #","id":"#.utf8)
        JSONWriter.writeString(utf8: id, into: &out)
        out.append(contentsOf: #","data":"#.utf8)
        guard reader.index < payload.count, payload[reader.index] == Tag.object else { throw CodecError("data is not an object") }
        try reader.writeJSONValue(into: &out, depth: 0, opener: opener)
        guard reader.index == payload.count else { throw CodecError("trailing bytes after the event") }
        out.append(UInt8(ascii: "}"))
    }

    /// Each well-known member name as JSON, quoted and followed by its colon.
    static let knownKeysJSON: [[UInt8]] = knownKeys.map { name in
        var bytes: [UInt8] = []
        JSONWriter.writeString(name, into: &bytes)
        bytes.append(UInt8(ascii: ":"))
        return bytes
    }
}

extension EventCodec.Reader {
    /// A sealed value as JSON: opened, or the erased or locked text.
    mutating func writeOpenedJSON(
        _ content: UnsafeRawBufferPointer, into out: inout [UInt8], depth: Int, opener: (any SealedValueOpener)?
    ) throws(CodecError) {
        switch EventCodec.open(content, by: opener) {
        case .plain(let encoding):
            let written: Result<Void, CodecError> = encoding.withUnsafeBytes { bytes in
                var inner = EventCodec.Reader(bytes: bytes, index: 0)
                return Result { () throws(CodecError) in try inner.writeJSONValue(into: &out, depth: depth + 1) }
            }
            try written.get()
        case .erased: JSONWriter.writeString(SealedValue.erasedText, into: &out)
        case .locked: JSONWriter.writeString(SealedValue.lockedText, into: &out)
        }
    }

    /// The next `count` bytes, in place.
    mutating func slice(count: Int) throws(CodecError) -> UnsafeRawBufferPointer {
        guard index + count <= bytes.count else { throw CodecError("truncated string") }
        defer { index += count }
        return UnsafeRawBufferPointer(rebasing: bytes[index..<index + count])
    }

    /// `readValue`, written as JSON instead of built as a tree.
    mutating func writeJSONValue(into out: inout [UInt8], depth: Int, opener: (any SealedValueOpener)? = nil) throws(CodecError) {
        guard depth <= 64 else { throw CodecError("nesting too deep") }
        switch try byte() {
        case EventCodec.Tag.null: out.append(contentsOf: "null".utf8)
        case EventCodec.Tag.false: out.append(contentsOf: "false".utf8)
        case EventCodec.Tag.true: out.append(contentsOf: "true".utf8)
        case EventCodec.Tag.int32: JSONWriter.writeInteger(Int64(try fixed(Int32.self)), into: &out)
        case EventCodec.Tag.double: JSONWriter.writeNumber(Double(bitPattern: try fixed(UInt64.self)), into: &out)
        case EventCodec.Tag.string: JSONWriter.writeString(utf8: try slice(count: try varint()), into: &out)
        case EventCodec.Tag.sealed: try writeOpenedJSON(try slice(count: try varint()), into: &out, depth: depth, opener: opener)
        case EventCodec.Tag.array:
            let count = try varint()
            out.append(UInt8(ascii: "["))
            for offset in 0..<count {
                if offset > 0 { out.append(UInt8(ascii: ",")) }
                try writeJSONValue(into: &out, depth: depth + 1, opener: opener)
            }
            out.append(UInt8(ascii: "]"))
        case EventCodec.Tag.object:
            let count = try varint()
            out.append(UInt8(ascii: "{"))
            for offset in 0..<count {
                if offset > 0 { out.append(UInt8(ascii: ",")) }
                let keyByte = try byte()
                if keyByte >= 0x80 {
                    let known = Int(keyByte - 0x80)
                    guard known < EventCodec.knownKeysJSON.count else { throw CodecError("unknown key code \(keyByte)") }
                    out.append(contentsOf: EventCodec.knownKeysJSON[known])
                } else {
                    let length = keyByte == 0x7F ? try varint() : Int(keyByte)
                    JSONWriter.writeString(utf8: try slice(count: length), into: &out)
                    out.append(UInt8(ascii: ":"))
                }
                try writeJSONValue(into: &out, depth: depth + 1, opener: opener)
            }
            out.append(UInt8(ascii: "}"))
        case let tag:
            throw CodecError("unknown value tag \(tag)")
        }
    }
}

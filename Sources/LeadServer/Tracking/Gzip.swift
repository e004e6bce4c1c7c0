import CZlib

/// Inflates a gzip body (tracking SDKs compress theirs), refusing more than `limit` bytes
/// out: a small compressed body may expand a thousandfold.
enum Gzip {
    enum Failure: Error, CustomStringConvertible {
        case tooLarge(Int)
        case invalid(String)

        var description: String {
            switch self {
            case .tooLarge(let limit): return "the body inflates to more than \(limit) bytes"
            case .invalid(let why): return "the body is not valid gzip (\(why))"
            }
        }
    }

    static func inflate(_ input: [UInt8], limit: Int) throws(Failure) -> [UInt8] {
        var stream = z_stream()
        // 16 + MAX_WBITS: a gzip header and trailer, not a raw zlib stream.
        guard inflateInit2_(&stream, 16 + MAX_WBITS, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw .invalid("zlib could not start")
        }
        defer { inflateEnd(&stream) }
        var output: [UInt8] = []
        output.reserveCapacity(min(limit, max(input.count * 6, 4096)))
        var chunk = [UInt8](repeating: 0, count: 64 << 10)
        var status: Int32 = Z_OK
        var input = input
        try input.withUnsafeMutableBufferPointer { (source) throws(Failure) in
            stream.next_in = source.baseAddress
            stream.avail_in = uInt(source.count)
            repeat {
                status = chunk.withUnsafeMutableBufferPointer { out in
                    stream.next_out = out.baseAddress
                    stream.avail_out = uInt(out.count)
                    return CZlib.inflate(&stream, Z_NO_FLUSH)
                }
                let produced = chunk.count - Int(stream.avail_out)
                guard output.count + produced <= limit else { throw .tooLarge(limit) }
                output.append(contentsOf: chunk[0..<produced])
                switch status {
                case Z_OK, Z_STREAM_END: break
                case Z_BUF_ERROR where stream.avail_in == 0: throw .invalid("it ends early")
                case Z_BUF_ERROR: break
                default: throw .invalid(stream.msg.map { String(cString: $0) } ?? "error \(status)")
                }
            } while status != Z_STREAM_END
        }
        return output
    }
}

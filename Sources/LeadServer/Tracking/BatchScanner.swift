import LedgerJSON

/// The size in bytes of each message of a body's top-level `batch` array, found in one pass
/// without parsing (the per-message limit is checked before anything is decoded). `nil` when
/// the body has no such array; a body that is not JSON is the parser's to describe.
enum BatchScanner {
    static func messageSizes(_ bytes: UnsafeRawBufferPointer) -> [Int]? {
        let quote = UInt8(ascii: "\"")
        var sizes: [Int]?
        var depth = 0
        var key: Range<Int>?
        var inBatch = false
        var start = -1
        var index = 0
        func close(at end: Int) {
            if start >= 0 { sizes?.append(end - start) }
            start = -1
        }
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case quote:
                let open = index
                index = JSONParser.closingQuote(in: bytes, after: open) ?? bytes.count
                if depth == 1 { key = open + 1..<min(index, bytes.count) }
                if inBatch && depth == 2 && start < 0 { start = open }
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                if inBatch && depth == 2 && start < 0 { start = index }
                if depth == 1 && byte == UInt8(ascii: "["), let name = key, name.count == 5,
                   bytes[name].elementsEqual("batch".utf8), sizes == nil {
                    inBatch = true
                    sizes = []
                }
                depth += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                depth -= 1
                if inBatch && depth == 1 {
                    close(at: index)
                    inBatch = false
                }
            case UInt8(ascii: ","):
                if inBatch && depth == 2 { close(at: index) }
            case 0x20, 0x09, 0x0A, 0x0D, UInt8(ascii: ":"):
                break
            default:
                if inBatch && depth == 2 && start < 0 { start = index }
            }
            index += 1
        }
        return sizes
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension JSONParser {
    /// Where each element of a top-level JSON array lies in `bytes`, without parsing the
    /// elements (they are parsed one by one afterwards, each by the fastest path it allows);
    /// `nil` when the text is not plainly an array of values (unbalanced, an empty element,
    /// anything after the closing bracket), for the caller to parse whole and say what is wrong.
    public static func elementRanges(ofArray bytes: UnsafeRawBufferPointer) -> [Range<Int>]? {
        func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 }
        var index = 0
        let count = bytes.count
        while index < count && isSpace(bytes[index]) { index += 1 }
        guard index < count, bytes[index] == UInt8(ascii: "[") else { return nil }
        index += 1
        var ranges: [Range<Int>] = []
        var depth = 0
        var start: Int?
        var end = index  // just after the last byte of the current element that is not a space
        while index < count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "\""):
                if start == nil { start = index }
                guard let closing = closingQuote(in: bytes, after: index) else { return nil }
                index = closing
                end = index + 1
            case UInt8(ascii: "["), UInt8(ascii: "{"):
                if start == nil { start = index }
                depth += 1
                end = index + 1
            case UInt8(ascii: "}"):
                guard depth > 0 else { return nil }
                depth -= 1
                end = index + 1
            case UInt8(ascii: "]") where depth > 0:
                depth -= 1
                end = index + 1
            case UInt8(ascii: ",") where depth > 0:
                break
            case UInt8(ascii: ","), UInt8(ascii: "]"):
                if let first = start {
                    ranges.append(first..<end)
                } else if byte == UInt8(ascii: ",") || !ranges.isEmpty {
                    return nil  // `[,` or `[1,]` or `[1,,2]`
                }
                start = nil
                if byte == UInt8(ascii: "]") {
                    index += 1
                    while index < count && isSpace(bytes[index]) { index += 1 }
                    return index == count ? ranges : nil
                }
            case _ where isSpace(byte):
                break
            default:
                if start == nil { start = index }
                end = index + 1
            }
            index += 1
        }
        return nil
    }

    /// The index of the quote that closes the string opened at `open`, or `nil` if none does:
    /// the next quote not escaped, that is not preceded by an odd run of backslashes. (Found
    /// with `memchr`: strings are most of an event's bytes, and splitting a request of a
    /// hundred events byte by byte was a twentieth of its instructions in the server.)
    public static func closingQuote(in bytes: UnsafeRawBufferPointer, after open: Int) -> Int? {
        guard let base = bytes.baseAddress else { return nil }
        var from = open + 1
        while from < bytes.count {
            guard let found = memchr(base + from, 0x22, bytes.count - from) else { return nil }
            let quote = base.distance(to: UnsafeRawPointer(found))
            var backslashes = 0
            while quote - backslashes - 1 > open && bytes[quote - backslashes - 1] == 0x5C { backslashes += 1 }
            if backslashes % 2 == 0 { return quote }
            from = quote + 1
        }
        return nil
    }
}

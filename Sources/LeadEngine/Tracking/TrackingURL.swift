/// What tracking reads of a page's or a referrer's URL: its host (lower-cased, without user,
/// port or brackets) and its query parameters (percent-decoded, `+` as a space, as forms and
/// UTM builders write them). Taken apart by hand, as bytes and leniently: Foundation's
/// `URLComponents` (RFC 3986 validation, IDNA through ICU), parsing the page's URL once per
/// UTM field, was a fifth of the CPU a tracking batch cost.
struct TrackingURL {
    let host: String?
    private let bytes: [UInt8]
    /// Where the query is in `bytes` (empty without one).
    private let query: Range<Int>

    init(_ text: String) {
        bytes = Array(text.utf8)
        var end = bytes.firstIndex(of: UInt8(ascii: "#")) ?? bytes.count
        if let mark = bytes[..<end].firstIndex(of: UInt8(ascii: "?")) {
            query = (mark + 1)..<end
            end = mark
        } else {
            query = end..<end
        }
        host = Self.host(of: bytes[..<end])
    }

    /// The authority's host of `scheme://authority/path` (or of `//authority/path`).
    private static func host(of text: ArraySlice<UInt8>) -> String? {
        let slash = UInt8(ascii: "/")
        guard let first = text.firstIndex(of: slash), first + 1 < text.endIndex, text[first + 1] == slash else { return nil }
        guard text[..<first].allSatisfy({ isSchemeByte($0) }) else { return nil }
        var authority = text[(first + 2)...]
        if let end = authority.firstIndex(of: slash) { authority = authority[..<end] }
        if let at = authority.lastIndex(of: UInt8(ascii: "@")) { authority = authority[(at + 1)...] }
        if authority.first == UInt8(ascii: "[") {
            // An IPv6 literal: the host is what the brackets hold.
            guard let close = authority.firstIndex(of: UInt8(ascii: "]")) else { return nil }
            authority = authority[(authority.startIndex + 1)..<close]
        } else if let colon = authority.lastIndex(of: UInt8(ascii: ":")) {
            authority = authority[..<colon]
        }
        guard !authority.isEmpty, !authority.contains(where: { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\\") }) else { return nil }
        return String(decoding: authority.map { (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains($0) ? $0 | 0x20 : $0 }, as: UTF8.self)
    }

    private static func isSchemeByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
            UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: ":"):
            return true
        default:
            return false
        }
    }

    /// The first value of parameter `name`, if it has one that is not empty.
    func parameter(_ name: String) -> String? {
        let wanted = Array(name.utf8)
        var start = query.lowerBound
        while start < query.upperBound {
            let end = bytes[start..<query.upperBound].firstIndex(of: UInt8(ascii: "&")) ?? query.upperBound
            let pair = bytes[start..<end]
            start = end + 1
            guard !pair.isEmpty else { continue }
            let equals = pair.firstIndex(of: UInt8(ascii: "=")) ?? pair.endIndex
            guard Self.decode(pair[..<equals]) == wanted else { continue }
            guard equals < pair.endIndex else { return nil }
            let value = Self.decode(pair[(equals + 1)...])
            return value.isEmpty ? nil : String(decoding: value, as: UTF8.self)
        }
        return nil
    }

    /// Percent-decoding (invalid escapes kept as they are) and `+` as a space.
    static func decode(_ text: ArraySlice<UInt8>) -> [UInt8] {
        guard text.contains(where: { $0 == UInt8(ascii: "%") || $0 == UInt8(ascii: "+") }) else { return Array(text) }
        var decoded: [UInt8] = []
        decoded.reserveCapacity(text.count)
        var index = text.startIndex
        while index < text.endIndex {
            let byte = text[index]
            if byte == UInt8(ascii: "+") {
                decoded.append(UInt8(ascii: " "))
            } else if byte == UInt8(ascii: "%"), index + 2 < text.endIndex, let high = hexValue(text[index + 1]), let low = hexValue(text[index + 2]) {
                decoded.append(high << 4 | low)
                index += 2
            } else {
                decoded.append(byte)
            }
            index += 1
        }
        return decoded
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}

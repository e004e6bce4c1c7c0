import HTTPTypes

/// Header values as the hot routes read them. `HTTPFields`' subscript joins every field of a
/// name into a new string, and Foundation's trimming bridges through `NSString`: a tenth of a
/// one-event request's handler time.
extension HTTPFields {
    /// The value of the first field named `name`.
    func first(_ name: HTTPField.Name) -> String? {
        for field in self where field.name == name {
            return field.value
        }
        return nil
    }

    /// A media-type header's type and subtype (`application/json` of
    /// `Application/JSON; charset=utf-8`), lower-cased; "" without the header.
    func mediaType(_ name: HTTPField.Name = .contentType) -> String {
        guard let value = first(name) else { return "" }
        var bytes = Array(value.utf8.prefix { $0 != UInt8(ascii: ";") })
        while let last = bytes.last, last == 0x20 || last == 0x09 { bytes.removeLast() }
        let start = bytes.firstIndex { $0 != 0x20 && $0 != 0x09 } ?? bytes.endIndex
        return String(decoding: bytes[start...].map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 }, as: UTF8.self)
    }
}

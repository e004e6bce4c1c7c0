import FuzzSupport
import LeadDomain

/// RFC 3339 times: the byte parser (`Timestamp.parse`, which the JSONL fast path uses) and
/// `Timestamp(rfc3339:)` (the general path) agree on every input, and an accepted time
/// renders as RFC 3339 text that reads back as the same time.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTimestamp(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = UnsafeRawBufferPointer(start: data, count: size)
    let bytes = Timestamp.parse(input)
    let text = String(decoding: input, as: UTF8.self)
    let string = Timestamp(rfc3339: text)
    guard bytes == string else {
        finding("Timestamp.parse gives \(String(describing: bytes)), Timestamp(rfc3339:) \(String(describing: string))", input: input)
    }
    _ = Timestamp(dateOrDateTime: text)
    guard let time = bytes else { return 0 }
    let rendered = time.rfc3339
    guard Timestamp(rfc3339: rendered) == time else {
        finding("\(time.microseconds) µs renders as \(rendered), which does not read back as the same time", input: input)
    }
    _ = (time.date, time.yearMonth, time.truncatedToSeconds)
    return 0
}

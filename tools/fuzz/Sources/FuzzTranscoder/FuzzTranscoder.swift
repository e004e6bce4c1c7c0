import EventTranscoder
import FuzzSupport
import LeadDomain
import LedgerJSON

/// The JSONL fast path must only ever decline a line or agree with the general one: when
/// `EventTranscoder` stores a line, `JSONParser.parse` + `Envelope(json:)` +
/// `EventCodec.encode` accept it too and give the same id, stream and bytes. Also: a scratch
/// reused line after line answers as a fresh one does, and what the general path accepts
/// survives the codec and the envelope's JSON unchanged.
nonisolated(unsafe) let scratch = EventTranscoder.Scratch()  // (libFuzzer calls on one thread)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTranscoder(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let line = UnsafeRawBufferPointer(start: data, count: size)
    let fast = EventTranscoder.transcode(line, scratch: scratch)
    let fresh = EventTranscoder.transcode(line)
    guard fast == fresh else {
        finding("a reused scratch answered \(String(describing: fast)), a fresh one \(String(describing: fresh))", input: line)
    }
    let event = (try? JSONParser.parse(line)).flatMap { try? Envelope(json: $0) }
    if let fast {
        guard let event else { finding("the transcoder accepted a line the general path refuses", input: line) }
        let general = Transcoded(id: event.id, type: event.type, lead: event.lead, stream: event.stream, payload: EventCodec.encode(event))
        guard fast == general else { finding("the paths disagree:\nfast    \(fast)\ngeneral \(general)", input: line) }
    }
    guard let event else { return 0 }
    let payload = EventCodec.encode(event)
    let decoded = payload.withUnsafeBytes { try? EventCodec.decode($0, id: event.id, lead: event.stream) }
    guard decoded == event else { finding("the stored payload decodes to \(String(describing: decoded)), not \(event)", input: line) }
    let reparsed = try? Envelope(json: JSONParser.parse(JSONWriter.render(event.json)))
    guard reparsed == event else { finding("the envelope's JSON reads back as \(String(describing: reparsed)), not \(event)", input: line) }
    return 0
}

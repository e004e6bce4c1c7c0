import FuzzSupport
import LedgerJSON

/// `JSONParser` on any bytes: no crash, an error column inside the input, and a value that
/// survives the writer: parse → `JSONWriter.render` → parse gives the same value, rendering
/// that again gives the same bytes, and the pretty form reads back the same too. The
/// `String` entry point answers as the bytes one does (on valid UTF-8, where they are the
/// same bytes).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJSON(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = UnsafeRawBufferPointer(start: data, count: size)
    let parsed = Result { () throws(JSONSyntaxError) in try JSONParser.parse(input) }
    if let text = String(validating: input, as: UTF8.self) {
        let viaString = Result { () throws(JSONSyntaxError) in try JSONParser.parse(text) }
        guard viaString == parsed else { finding("String and bytes parse differently: \(viaString) vs \(parsed)", input: input) }
    }
    let value: JSONValue
    switch parsed {
    case .failure(let error):
        guard error.column >= 1, error.column <= size + 1 else { finding("error column \(error.column) outside the input", input: input) }
        return 0
    case .success(let success):
        value = success
    }
    let rendered = JSONWriter.render(value)
    let again: JSONValue
    do {
        again = try JSONParser.parse(rendered)
    } catch {
        finding("the writer's output does not parse (\(error)): \(rendered)", input: input)
    }
    guard again == value else { finding("parse → render → parse changed the value: \(rendered)", input: input) }
    let renderedAgain = JSONWriter.render(again)
    guard renderedAgain == rendered else { finding("rendering is not stable: \(rendered) then \(renderedAgain)", input: input) }
    let pretty = JSONWriter.renderPretty(value)
    guard (try? JSONParser.parse(pretty)) == value else { finding("the pretty form reads back differently: \(pretty)", input: input) }
    return 0
}

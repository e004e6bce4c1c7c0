import LedgerJSON
import Testing

@Suite("JSON parser and writer")
struct JSONTests {
    @Test func parsesEveryKindOfValue() throws {
        let value = try JSONParser.parse(#" {"s":"a\"b\\c\n\u00e9\ud83d\ude00","n":-12.5e1,"i":42,"t":true,"f":false,"z":null,"a":[1,[2],{}],"o":{"k":"v"}} "#)
        #expect(value["s"] == .string("a\"b\\c\né😀"))
        #expect(value["n"] == .number(-125))
        #expect(value["i"] == .number(42))
        #expect(value["t"] == .bool(true))
        #expect(value["f"] == .bool(false))
        #expect(value["z"] == .null)
        #expect(value["a"] == .array([.number(1), .array([.number(2)]), .object([:])]))
        #expect(value["o"]?["k"] == .string("v"))
    }

    @Test func keepsMemberOrderAndRendersItBack() throws {
        let text = #"{"zeta":1,"alpha":"x","mid":[true,null]}"#
        #expect(JSONWriter.render(try JSONParser.parse(text)) == text)
    }

    @Test(arguments: [
        (#"{"a":1"#, "expected ',' or '}'"),
        (#"{"a" 1}"#, "expected ':'"),
        (#"{"a":01}"#, "leading zeros"),
        (#"{"a":"x}"#, "unterminated string"),
        (#"{"a":1}x"#, "after the end of the value"),
        (#"{"a":1,"a":2}"#, "duplicate member name \"a\""),
        (#"[1,]"#, "expected a value"),
        (#"{'a':1}"#, "member name in double quotes"),
        ("", "unexpected end of input"),
        (#"{"a":tru}"#, "expected 'true'"),
    ])
    func refusesBrokenJSONSayingWhatAndWhere(input: String, message: String) {
        do {
            _ = try JSONParser.parse(input)
            Issue.record("parsed \(input) without error")
        } catch {
            #expect(error.description.contains(message), "\(error.description)")
            #expect(error.description.contains("column"))
        }
    }

    @Test func reportsTheColumnOfTheProblem() {
        #expect(throws: JSONSyntaxError(column: 6, message: "unexpected '}', expected a value")) {
            _ = try JSONParser.parse(#"{"a":}"#)
        }
    }

    @Test func rendersNumbersDeterministically() {
        #expect(JSONWriter.render(.number(25000)) == "25000")
        #expect(JSONWriter.render(.number(-3)) == "-3")
        #expect(JSONWriter.render(.number(0.1)) == "0.1")
        #expect(JSONWriter.render(.number(12.75)) == "12.75")
        #expect(JSONWriter.render(.number(.infinity)) == "null")
    }

    @Test func escapesControlCharactersAndQuotes() throws {
        let original = JSONValue.string("tab\there \"quoted\" \u{01} back\\slash")
        let rendered = JSONWriter.render(original)
        #expect(rendered == #""tab\there \"quoted\" \u0001 back\\slash""#)
        #expect(try JSONParser.parse(rendered) == original)
    }

    @Test func prettyRenderingParsesBackToTheSameValue() throws {
        let value: JSONValue = ["rows": [["key": "email", "conversions": 1.5]], "totals": [:]]
        #expect(try JSONParser.parse(JSONWriter.renderPretty(value)) == value)
    }
}

@Suite("Splitting a JSON array into its elements")
struct JSONArrayElementsTests {
    func split(_ text: String) -> [String]? {
        let bytes = Array(text.utf8)
        return bytes.withUnsafeBytes { buffer in
            JSONParser.elementRanges(ofArray: buffer)?.map { String(decoding: bytes[$0], as: UTF8.self) }
        }
    }

    @Test func eachElementIsItsOwnTextAndParsesToTheArraysElement() throws {
        let text = #" [ {"a":"x,]}\"y","b":[1,{"c":[]}]} , 12 ,"s\\",null,[[]],{}]"#
        let elements = try #require(split(text))
        #expect(elements == [#"{"a":"x,]}\"y","b":[1,{"c":[]}]}"#, "12", #""s\\""#, "null", "[[]]", "{}"])
        guard case .array(let parsed) = try JSONParser.parse(text) else { Issue.record("not an array"); return }
        #expect(try elements.map { try JSONParser.parse($0) } == parsed)
        #expect(split("[]") == [])
        #expect(split(" [ ] \n") == [])
    }

    @Test(arguments: ["", "{}", "[", "[1,]", "[,1]", "[1,,2]", "[1] x", "[{]", "[}]", #"["open]"#, "[1]]", "[[1]"])
    func anythingButPlainlyAnArrayIsLeftToTheParser(_ text: String) {
        #expect(split(text) == nil)
    }
}

@Suite("Finding where strings end, eight bytes at a time")
struct StringScanTests {
    /// Each special byte at every offset of a long plain run, so that it falls at every place
    /// of an eight-byte word and in the bytes after the last whole word.
    @Test func everySpecialByteIsFoundAtEveryOffset() throws {
        for length in 0..<20 {
            for offset in 0...length {
                let plain = String(repeating: "a", count: offset), rest = String(repeating: "b", count: length - offset)
                #expect(try JSONParser.parse("\"\(plain)\(rest)\"") == .string(plain + rest))
                #expect(try JSONParser.parse(#""\#(plain)\"\#(rest)""#) == .string(plain + "\"" + rest))
                #expect(try JSONParser.parse(#""\#(plain)\\\#(rest)""#) == .string(plain + "\\" + rest))
                #expect(try JSONParser.parse("\"\(plain)é\(rest)\"") == .string(plain + "é" + rest))
                #expect(throws: JSONSyntaxError.self) { try JSONParser.parse("\"\(plain)\u{01}\(rest)\"") }
                #expect(throws: JSONSyntaxError.self) { try JSONParser.parse("\"\(plain)\(rest)") }
            }
        }
        // Bytes just above and below the bounds the word test uses.
        #expect(throws: JSONSyntaxError.self) { try JSONParser.parse("\"abcdefgh\u{1F}\"") }
        #expect(try JSONParser.parse(#""abcdefgh\u001f""#) == .string("abcdefgh\u{1F}"))
        #expect(try JSONParser.parse(#"" !#[]~\u007f""#) == .string(" !#[]~\u{7F}"))
    }

    @Test func aQuoteAfterAnOddRunOfBackslashesIsEscaped() {
        func closing(_ text: String) -> Int? {
            Array(text.utf8).withUnsafeBytes { JSONParser.closingQuote(in: $0, after: 0) }
        }
        #expect(closing(#""abc" x"#) == 4)
        #expect(closing(#""a\"b" x"#) == 5)
        #expect(closing(#""a\\" x"#) == 4)
        #expect(closing(#""a\\\"b" x"#) == 7)
        #expect(closing(#""\\\\""#) == 5)
        #expect(closing(#""open"#) == nil)
        #expect(closing(#""escaped at the end\""#) == nil)
        #expect(closing("\"") == nil)
    }
}

import Foundation
import Testing

@testable import SimpleRegex

@Suite("SimpleRegex: a fast matcher that answers like ICU")
struct SimpleRegexTests {
    /// Patterns inside the subset, each checked against ICU on every text of `texts`.
    static let supported: [String] = [
        // The spec's example rules and likely ones.
        #"(?i)\b(vp|vice president|director|head|chief|c[eft]o)\b"#,
        #"@(gmail|yahoo|hotmail)\."#,
        "^VP", "(?i)engineer", #"\.edu$"#, "^[a-z]+@", "(?i)^(cto|ceo)$", "manager|lead",
        "[0-9]{3,}", "a.*b", "colou?r", "(?:foo|bar)+baz",
        // Alternatives, anchors, boundaries.
        "a|", "|a", "^$", "^", "$", #"\bvp\b"#, #"\Bp\b"#, #"\B"#, #"\b"#, #"^\b"#, #"\b$"#,
        "a$", #"\n$"#, #"\r$"#, #"\r\n$"#, "$a", "a^", "(^a|b$)", "(?:)", "()*a", "(?i)", "(?i)|x",
        #"^\s*$"#, "x+$", #"\w\b\W"#, #"\b\w+\b"#,
        // Dot and line terminators.
        ".", "a.b", "^.*$", "^.+$", "x.", ".$",
        // Classes.
        "[-a]", "[a-]", "[^-]", "[^@]+@", "[a-c-]x", #"[\-\]\\]"#, "[.*+?()|^]", "[a^]", "[ab ]",
        #"[\d_]+"#, #"[^\w]"#, #"[^\W]"#, #"[\s]"#, #"[\S\d]"#, #"[^\D]"#, "[Z-a]", "[!-/]", "[@-B]",
        #"[\[(]"#, #"\S+@\S+"#, #"(?i)[a-z0-9._%+-]+@[a-z0-9.-]+\.[a-z]{2,}$"#,
        #"[\t\n\r]"#, "(?i)[a-c]x", "(?i)[^a]", "(?i)[^a-z]", "(?i)[Z-a]", #"(?i)[^\W]"#, #"(?i)[\D]"#,
        // Escapes.
        #"\d\D"#, #"\w+\W"#, #"\s\S"#, #"\t"#, #"\n"#, #"\r"#, #"\.\\\-\(\)\[\]\{\}\*\+\?\|\^\$\/"#,
        #"\!\"\#\%\&\'\,\:\;\<\=\>\@\_\`\~"#,
        // Quantifiers.
        "a{2,3}", "a{2}", "^a{2,3}$", "a{0}b", "a{0,1}b", "(ab){2,}", "a*?b", "a+?", "a??b", "a{1,2}?b",
        "a{0,0}b", "(a){0}", "(a|b)*a(a|b){3}", "(a*)*b", "(a|b)*abb", "(a?){3}a{3}", "(\\b|a)*x",
        "(a*|b)+$", "(?:a|b|)+c", "(?i)(VP|D)+",
        // Literals that are not metacharacters.
        "#", " ", "a b", "-", ",", "\t", "\n", "&", "~", "'", "\"", ":",
    ]

    /// Patterns `init` must leave to ICU.
    static let unsupported: [String] = [
        "", "(?=a)", "(?!a)", "(?<=a)", "(?<!a)", #"(a)\1"#, #"\p{L}"#, #"\P{L}"#, #"\Qa.b\E"#, #"\u0041"#,
        #"\x41"#, #"\x{41}"#, "(?<name>a)", "(?m)^a", "(?s).", "(?x)a b", "a(?i)b", "(?i:a)", "(?-i)a",
        "(?i)(?i)a", "a*+", "a++", "a?+", "a{2}+", "a**", "a*{2}", "[[a]&&[b]]", "[[:alpha:]]", "[:alpha:]",
        "[a&&b]", "[a--b]", "[a&b]", "[a{b]", "[$]", "[a-\\d]", "[\\d-z]", "[a-c-e]", "[z-a]", "[]a]",
        "[^]a]", "[]", "[a", "[\\b]", "é", "(?i)ſ", "a{2,1}", "a{,3}", "a{", "a{x}", "a{1,x}", "a{1001}",
        "*a", "+a", "?a", "{2}", "(*)", "a|*", "(a", "a)", ")", "]", "}", #"\A"#, #"\z"#, #"\Z"#, #"\G"#,
        #"\1"#, #"\0"#, #"\v"#, #"\h"#, #"\X"#, #"\R"#, #"\N{LATIN SMALL LETTER A}"#, #"\e"#, #"\f"#,
        #"\c"#, "\\", #"\ "#, "^*", "$?", #"\b+"#, #"\B{2}"#,
        // Too large: the NFA (over 1,000 instructions) or the DFA (over 1,024 states).
        "(((a{20}){20}){20})", "a{1000}", "(a|b)*a(a|b){12}",
        String(repeating: "(", count: 100) + String(repeating: ")", count: 100),
    ]

    @Test("accepts the subset", arguments: supported)
    func accepts(_ pattern: String) {
        #expect(SimpleRegex(pattern) != nil, "pattern \(pattern.debugDescription)")
    }

    @Test("leaves the rest to ICU", arguments: unsupported)
    func rejects(_ pattern: String) {
        #expect(SimpleRegex(pattern) == nil, "pattern \(pattern.debugDescription)")
    }

    /// Hand-picked edge cases plus deterministic pseudo-random texts.
    static let texts: [String] = {
        var texts = [
            "", "a", "b", "ab", "vp", "VP", "avp", "vp.", "VP of Sales", "Vice President, Ops",
            "vice  president", "Director", "directors", "Head of Growth", "Chief of Staff", "CTO", "cto",
            "cfo", "coo", "ceo\n", "Ceo", "cEO", "senior engineer", "ENGINEER", "Engineering Manager",
            "team lead", "john@gmail.com", "jane@yahoo.co.uk", "x@hotmail.", "x@hotmail", "x@gmail_com",
            "a@b.edu", "a@b.edu\n", "a@b.edu\r", "a@b.edu\r\n", "a@b.edu\n\n", "a@b.edu\u{0B}",
            "a@b.edu\u{0C}", "a@b.edu ", "a@b.educ", "bob@x", "Bob@x", "@x", "\n", "\r", "\r\n", "\n\r",
            "\n\n", "a\n", "a\r", "a\r\n", "a\n\r", "\r\n\r\n", "a\nb", "a\rb", "a\u{0B}b", "a\u{0C}b",
            "a\tb", "colour", "color", "colouur", "foobaz", "barfoobaz", "baz", "fobaz", "123", "12",
            "1234", "a12b345", "aa", "aaa", "aaaa", "abb", "babb", "aab", "xx", "x", " x", "_x", "x_",
            "-", "a-", "]", "\\", "^", "$", "#", "&", "~", "'", "\"", ":", "{}", "[]", "()", "|", "*+?",
            ".\\-()[]{}*+?|^$/", "!\"#%&',:;<=>@_`~", "a b", "a  b", " ", "\t", "\u{1C}", "\u{7F}",
            "\u{00}", "Zz", "[", "`", "@", "A", "B", "C", "_", "x", "X", "Ax", "Dx", "dx", "c", "ccx",
        ]
        // Tokens relevant to the patterns, and single characters including the line terminators,
        // whitespace, punctuation and both cases.
        let tokens = [
            "vp", "VP", "vice president", "Director", "head", "chief", "cto", "CEO", "cfo", "@", "gmail",
            "yahoo", "hotmail", ".", "edu", "com", "engineer", "manager", "lead", "colour", "color", "foo",
            "bar", "baz", "ab", "b", "a", "x", "\n", "\r", "\r\n", " ", "-", "_", "123", "9",
        ]
        let characters = Array(
            "aAbBcCdDeEfFhHoOpPrRtTvVxXyYzZ_019 @.-\n\r\t\u{0B}\u{0C}\u{1C}$^()[]{}|*+?\\/,!#&:'\"`~<=>;%"
        ).map(String.init)
        var random = SplitMix64(seed: 0x5EED_1234)
        for _ in 0..<300 {
            var text = ""
            for _ in 0..<random.next(below: 7) {
                text += random.next(below: 2) == 0
                    ? tokens[random.next(below: tokens.count)]
                    : characters[random.next(below: characters.count)]
            }
            texts.append(text)
        }
        return texts
    }()

    @Test("answers like NSRegularExpression", arguments: supported)
    func matchesICU(_ pattern: String) throws {
        let simple = try #require(SimpleRegex(pattern), "pattern \(pattern.debugDescription)")
        let icu = try NSRegularExpression(pattern: pattern)
        for text in Self.texts {
            let expected = icu.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
            #expect(
                simple.search(text) == expected,
                "pattern \(pattern.debugDescription) text \(text.debugDescription): ICU says \(expected)"
            )
        }
    }

    @Test("each escaped punctuation character matches itself only")
    func escapedPunctuation() throws {
        let punctuation = Array(##"!"#$%&'()*+,-./:;<=>?@[\]^_`{|}~"##).map(String.init)
        for escaped in punctuation {
            for pattern in [#"\"# + escaped, "[" + #"\"# + escaped + "]", "(?i)x" + #"\"# + escaped] {
                let simple = try #require(SimpleRegex(pattern), "pattern \(pattern.debugDescription)")
                let icu = try NSRegularExpression(pattern: pattern)
                for text in punctuation + ["x" + escaped, "X" + escaped, "a", "\\"] {
                    let expected = icu.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
                    #expect(
                        simple.search(text) == expected,
                        "pattern \(pattern.debugDescription) text \(text.debugDescription)"
                    )
                }
            }
        }
    }

    @Test("leaves non-ASCII text to ICU unless a match came before it")
    func nonASCIIText() throws {
        let simple = try #require(SimpleRegex(#"(?i)\bvp\b"#))
        #expect(simple.search("VP") == true)
        #expect(simple.search("VP é") == true)  // matched on "VP " before the é
        #expect(simple.search("VPé") == nil)  // the \b after P depends on the é
        #expect(simple.search("é VP") == nil)
        #expect(simple.search("directeur général") == nil)
        #expect(simple.search(String(repeating: "x", count: 40) + "\u{7F}") == false)
        #expect(simple.search(String(repeating: "x", count: 40) + "\u{80}") == nil)
        let anchored = try #require(SimpleRegex("^VP"))
        #expect(anchored.search("CTO é") == false)  // no thread left after the C
        #expect(anchored.search("é") == nil)
    }

    /// Texts with non-ASCII characters next to the ASCII ones the patterns look at: Unicode word
    /// characters and combining marks (for `\b`), line terminators (for `.` and `$`), and
    /// characters whose case folding reaches ASCII (the Kelvin sign, the long s).
    static let nonASCIITexts = [
        "é", "VP é", "VPé", "éVP", "vp\u{301}", "vp\u{200D}x", "\u{200D}vp", "a.edu\u{85}", "a.edu\u{2028}",
        "a.edu\u{2029}", "a.edu\n\u{85}", "\u{212A}", "\u{17F}", "x@gmail.comé", "é@gmail.", "director\u{A0}",
        "a\u{85}b", "a\u{2028}b", "aé\nb", "colour\u{301}", "123\u{661}", "\u{661}\u{662}\u{663}", "café",
        "CEO·", "cto\u{AD}", "head\u{300}", "_\u{301}x", "bob@x\u{300}", "ab\u{300}b", "\u{1F600}a",
    ]

    @Test("answers like NSRegularExpression on non-ASCII text when it answers", arguments: supported)
    func matchesICUWhenItAnswersOnNonASCIIText(_ pattern: String) throws {
        let simple = try #require(SimpleRegex(pattern), "pattern \(pattern.debugDescription)")
        let icu = try NSRegularExpression(pattern: pattern)
        for text in Self.nonASCIITexts {
            guard let found = simple.search(text) else { continue }
            let expected = icu.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
            #expect(found == expected, "pattern \(pattern.debugDescription) text \(text.debugDescription)")
        }
    }

    @Test("does not blow up on nested quantifiers")
    func nestedQuantifiers() throws {
        let simple = try #require(SimpleRegex("(a*)*b"))
        let text = String(repeating: "a", count: 5_000)
        #expect(simple.search(text) == false)
        #expect(simple.search(text + "b") == true)
        let counted = try #require(SimpleRegex("(a|aa){2,40}$"))
        #expect(counted.search(String(repeating: "a", count: 2_000) + "c") == false)
    }

    @Test("works on long and non-contiguous strings")
    func longAndBridgedText() throws {
        let simple = try #require(SimpleRegex(#"@(gmail|yahoo|hotmail)\."#))
        let long = String(repeating: "a.", count: 1_000) + "@gmail.com"
        #expect(simple.search(long) == true)
        #expect(simple.search(String(long.dropLast(4))) == false)
        let substring = long.dropFirst(3)
        #expect(simple.search(String(substring)) == true)
    }
}

/// SplitMix64: a small deterministic generator for the differential texts.
private struct SplitMix64 {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func next(below bound: Int) -> Int {
        Int(next() % UInt64(bound))
    }
}

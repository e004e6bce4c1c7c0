/// A small, allocation-free matcher for a safe subset of ICU's regular-expression syntax, which
/// answers exactly what `NSRegularExpression(pattern:).firstMatch(in:range:) != nil` answers
/// (a search, like Python's `re.search`) for the patterns and texts it accepts.
///
/// ICU costs about 6,000 instructions a call, mostly in bridging and allocation; a scoring rule
/// runs once per lead on values that rarely repeat (e-mail addresses), so memoising does not
/// help. This matcher costs a few instructions a byte.
///
/// ## Design
/// `init` parses the pattern to a tree, compiles the tree to a Thompson NFA over bytes
/// (instructions that consume one byte of a set, `split` and `jump`, the zero-width assertions
/// `^ $ \b \B`, and `match`), then turns the NFA into a DFA by the subset construction, once:
/// - A DFA state is the set of NFA instructions that wait to follow their epsilon edges at the
///   current position, plus whether the previous byte is a word character and whether the
///   position is the start. Epsilon edges are followed when the next byte is known, so `\b`
///   (which looks at both neighbours) and `^` are decided inside a transition. The search is
///   unanchored: every transition also starts a new thread at the current position.
/// - Bytes that no part of the pattern tells apart share a class; the table has one row per
///   state and one column per class, plus a column for bytes ≥ 0x80 (the search then gives up:
///   Unicode word characters, case folding and multi-byte `.` stay ICU's) and one for the end
///   of the text (whether the pattern matches there).
/// - `$` holds only at the last two positions, so a pattern with `$` has a second table whose
///   transitions assume `$` holds, used for those two positions when it does.
/// - Three sentinel rows end a search early: matched, dead (an anchored pattern whose threads
///   all died) and non-ASCII.
/// A search is then one table look-up a byte, with no backtracking (`(a*)*b` is linear) and no
/// allocation. A pattern whose DFA would pass `maxStates` states or `maxEntries` entries is left
/// to ICU (`init` returns nil), which bounds the construction's time and the table's size. Only whether a match exists
/// is answered, so a lazy quantifier is the same as a greedy one.
///
/// ## The subset (anything else makes `init` return nil, so the caller uses ICU)
/// - The pattern is ASCII and not empty (ICU rejects ""). An optional leading `(?i)` makes it
///   case-insensitive (ASCII case folding, exact for ASCII text); no other inline flag, and
///   `(?i)` nowhere else.
/// - Literals: any ASCII character but `\ ^ $ . | ? * + ( ) [ ] { }`; escaped punctuation
///   (`\.` `\\` `\-` `\(` `\/` … any of ``!"#$%&'()*+,-./:;<=>?@[\]^_`{|}~``); `\t` `\n` `\r`.
/// - `.` (any character but the line terminators U+000A–U+000D, as ICU without `(?s)`).
/// - `\d \D \w \W \s \S` (ASCII parts: `[0-9]`, `[A-Za-z0-9_]`, `[\t\n\v\f\r ]`).
/// - Classes `[...]` and `[^...]` of characters, ranges and the escapes above; `-` is a
///   literal only first or last. Rejected: `]` first, `[` inside (nested sets, `[[:alpha:]]`),
///   `[:`…, `&&`/`--` (set operations), unescaped `& { } $` inside, `\b` inside, reversed ranges.
/// - Groups `(...)` and `(?:...)`, alternation `|` (empty branches too).
/// - Greedy quantifiers `* + ? {n} {n,} {n,m}` (n, m ≤ 1000) and their lazy forms `*?` etc.
///   Rejected: possessive `*+`, stacked quantifiers (`a**`), quantifiers on nothing or on an
///   assertion, `{,m}`, malformed or reversed intervals, NFAs over 1,000 instructions.
/// - Anchors `^` (start of input) and `$` (end of input, or before a line terminator that
///   ends the input, or before a final `\r\n`: ICU's rule without `(?m)`), `\b` and `\B` with
///   ICU's word characters, whose ASCII part is `[A-Za-z0-9_]`.
/// - Rejected as well: backreferences, lookaround, named groups, `\p{…}`, `\Q…\E`, `\x`, `\u`,
///   `\N`, `\A`, `\z`, `\Z`, `\G`, `\R`, `\X`, `\h`, `\v`, octal escapes, and unmatched `)`, `]`, `}`.
public struct SimpleRegex: Sendable {
    /// The byte classes, then the DFA's rows, then (for a pattern with `$`) the rows that
    /// assume `$` holds.
    /// - `table[byte]` (256 entries) is the byte's column.
    /// - A state is the offset of its row, whose entry at `column` is the next state's offset;
    ///   the entry at `endColumn` is `matched` if the pattern matches at the end of the text in
    ///   that state, else `dead`.
    /// - The row at `state + dollarDelta` is the state's row when `$` holds.
    private let table: [UInt32]
    /// The state before the first byte.
    private let start: UInt32
    private let endColumn: Int
    /// The offset from a state's row to its row when `$` holds; nil when the pattern has no `$`.
    private let dollarDelta: Int?

    /// The size of the class table at the start of `table`: one entry a byte value.
    fileprivate static let classEntries = 256
    /// The sentinel states' rows (rows count from the end of the class table). The matched
    /// state is row 0 whatever the width, at offset `classEntries`.
    fileprivate static let matchedRow = 0, deadRow = 1, nonASCIIRow = 2
    private static let matchedState = UInt32(classEntries)
    /// The most DFA states (sentinels aside) a pattern may need, and the most entries their
    /// rows may have (states × columns): beyond either the pattern is left to ICU.
    static let maxStates = 1_024
    static let maxEntries = 32_768

    /// Compiles `pattern`; nil when it uses anything outside the supported subset (the caller
    /// then uses ICU), including a pattern ICU rejects.
    public init?(_ pattern: String) {
        var parser = Parser(Array(pattern.utf8))
        guard let tree = parser.parse() else { return nil }
        var compiler = Compiler()
        guard compiler.emit(tree), compiler.append(Instruction(.match)) else { return nil }
        var builder = DFABuilder(compiler.program)
        guard let dfa = builder.build() else { return nil }
        table = dfa.table
        start = dfa.start
        endColumn = dfa.endColumn
        dollarDelta = dfa.dollarDelta
    }

    /// Whether the pattern matches somewhere in `text` (like `re.search`). Returns nil when the
    /// answer depends on non-ASCII text (a byte ≥ 0x80 reached before a match was found), so
    /// the caller falls back to ICU.
    public func search(_ text: String) -> Bool? {
        if let found = text.utf8.withContiguousStorageIfAvailable({ run($0) }) { return found }
        var copy = text
        return copy.withUTF8 { run($0) }
    }

    /// `search(_:)` on UTF-8 bytes.
    public func search(_ text: UnsafeRawBufferPointer) -> Bool? {
        run(text.assumingMemoryBound(to: UInt8.self))
    }

    private func run(_ text: UnsafeBufferPointer<UInt8>) -> Bool? {
        table.withUnsafeBufferPointer { buffer in
            guard let table = buffer.baseAddress else { return nil }
            let count = text.count
            guard count > 0, let bytes = text.baseAddress else {
                return table[Int(start) + endColumn] == Self.matchedState
            }
            // States below `firstState` are the sentinels.
            let firstState = Self.matchedState + 3 * UInt32(endColumn + 1)
            var state = start
            // `$` can only hold at the last two positions.
            let plain = dollarDelta == nil ? count : Swift.max(0, count - 2)
            var index = 0
            while index < plain {
                state = table[Int(state) + Int(table[Int(bytes[index])])]
                if state < firstState { return outcome(state) }
                index += 1
            }
            while index < count {
                let byte = bytes[index]
                var row = Int(state)
                if let dollarDelta, Self.dollarHolds(bytes, count: count, at: index) { row += dollarDelta }
                state = table[row + Int(table[Int(byte)])]
                if state < firstState { return outcome(state) }
                index += 1
            }
            return table[Int(state) + endColumn] == Self.matchedState
        }
    }

    /// The answer a sentinel state gives.
    private func outcome(_ state: UInt32) -> Bool? {
        switch state {
        case Self.matchedState: return true
        case Self.matchedState + UInt32(endColumn + 1): return false  // dead
        default: return nil  // non-ASCII
        }
    }

    /// ICU's `$` without `(?m)` at `index` < `count`: before a line terminator that ends the
    /// input (but not between the `\r` and `\n` of a final `\r\n`), or before a final `\r\n`.
    @inline(__always)
    private static func dollarHolds(_ bytes: UnsafePointer<UInt8>, count: Int, at index: Int) -> Bool {
        let byte = bytes[index]
        if index == count - 1 {
            guard ByteSet.lineTerminators.contains(byte) else { return false }
            return !(byte == 0x0A && index > 0 && bytes[index - 1] == 0x0D)
        }
        return index == count - 2 && byte == 0x0D && bytes[index + 1] == 0x0A
    }
}

// MARK: - DFA construction

extension SimpleRegex {
    /// The subset construction (see the type's documentation).
    fileprivate struct DFABuilder {
        struct DFA {
            var table: [UInt32]
            var start: UInt32
            var endColumn: Int
            var dollarDelta: Int?
        }

        /// A DFA state: NFA instructions waiting to follow their epsilon edges (sorted), and
        /// the context the assertions need.
        private struct State: Hashable {
            var pending: [Int32]
            var previousIsWord: Bool
            var atStart: Bool
        }

        private let program: [Instruction]
        /// Every match passes `^` first: once no thread is live past the start, none can begin.
        private let anchored: Bool
        private let hasDollar: Bool
        /// Each ASCII byte's class, and one byte of each class.
        private var classOf = [UInt8](repeating: 0, count: 128)
        private var representatives: [UInt8] = []
        private var states: [State] = []
        private var ids: [State: Int] = [:]

        init(_ program: [Instruction]) {
            self.program = program
            anchored = Self.isAnchored(program)
            hasDollar = program.contains { $0.opcode == .inputEnd }
            // Two bytes share a class when every byte set of the program, and `\w` (for the
            // word boundaries), contain both or neither.
            var sets: [ByteSet] = [ByteSet.word]
            for instruction in program where instruction.opcode == .byte && !sets.contains(instruction.bytes) {
                sets.append(instruction.bytes)
            }
            var classes: [[Bool]: UInt8] = [:]
            for byte in UInt8(0)..<128 {
                let signature = sets.map { $0.contains(byte) }
                if let known = classes[signature] {
                    classOf[Int(byte)] = known
                } else {
                    let id = UInt8(representatives.count)
                    classes[signature] = id
                    classOf[Int(byte)] = id
                    representatives.append(byte)
                }
            }
        }

        /// The table, or nil when the DFA would need more than `maxStates` states or
        /// `maxEntries` entries.
        mutating func build() -> DFA? {
            let asciiClasses = representatives.count
            let nonASCIIColumn = asciiClasses, endColumn = asciiClasses + 1
            let width = asciiClasses + 2
            // Rows by state id: ids 0–2 are the sentinels, whose rows lead back to themselves.
            var rows: [[Int]] = (0..<3).map { [Int](repeating: $0, count: width) }
            var dollarRows = rows
            guard let start = id(of: State(pending: [], previousIsWord: false, atStart: true)) else { return nil }
            var next = 0
            while next < states.count {
                let state = states[next]
                next += 1
                var row = [Int](repeating: SimpleRegex.nonASCIIRow, count: width)
                var dollarRow = row
                // The closure depends on the byte only through whether it is a word character.
                let closures = [false, true].map { closure(of: state, nextIsWord: $0, dollar: false) }
                let dollarClosures = hasDollar
                    ? [false, true].map { closure(of: state, nextIsWord: $0, dollar: true) } : []
                for column in 0..<asciiClasses {
                    let byte = representatives[column]
                    let isWord = ByteSet.word.contains(byte)
                    guard let target = step(closures[isWord ? 1 : 0], on: byte) else { return nil }
                    row[column] = target
                    if hasDollar {
                        guard let target = step(dollarClosures[isWord ? 1 : 0], on: byte) else { return nil }
                        dollarRow[column] = target
                    }
                }
                row[nonASCIIColumn] = SimpleRegex.nonASCIIRow
                let matchesAtEnd = closure(of: state, nextIsWord: false, dollar: true) == nil
                row[endColumn] = matchesAtEnd ? SimpleRegex.matchedRow : SimpleRegex.deadRow
                rows.append(row)
                dollarRows.append(dollarRow)
            }
            // Offsets: the class entries, the rows, then the `$` rows.
            let rowOffset = { (id: Int) in UInt32(SimpleRegex.classEntries + id * width) }
            var table = (0..<SimpleRegex.classEntries).map { UInt32($0 < 128 ? Int(classOf[$0]) : nonASCIIColumn) }
            table.reserveCapacity(table.count + rows.count * width * (hasDollar ? 2 : 1))
            for row in rows {
                table.append(contentsOf: row.map(rowOffset))
            }
            if hasDollar {
                for row in dollarRows { table.append(contentsOf: row.map(rowOffset)) }
            }
            return DFA(
                table: table, start: rowOffset(start), endColumn: endColumn,
                dollarDelta: hasDollar ? rows.count * width : nil
            )
        }

        /// The id of `state`, added if new; nil past `maxStates` or `maxEntries`.
        private mutating func id(of state: State) -> Int? {
            if let known = ids[state] { return known }
            guard states.count < SimpleRegex.maxStates,
                (states.count + 1) * (representatives.count + 2) <= SimpleRegex.maxEntries
            else { return nil }
            states.append(state)
            ids[state] = states.count + 2  // after the three sentinels
            return states.count + 2
        }

        /// The state after `byte` (nil past the limits), given the threads live at the current
        /// position once its epsilon edges were followed (nil: `match` was reached there).
        private mutating func step(_ live: [Int32]?, on byte: UInt8) -> Int? {
            guard let live else { return SimpleRegex.matchedRow }
            let stepped = live.filter { program[Int($0)].bytes.contains(byte) }.map { $0 + 1 }
            if stepped.isEmpty && anchored { return SimpleRegex.deadRow }
            return id(of: State(pending: stepped, previousIsWord: ByteSet.word.contains(byte), atStart: false))
        }

        /// The `byte` instructions reached from the pending ones and a new thread at the
        /// current position (sorted), or nil when `match` is reached. `nextIsWord` is whether
        /// the byte after the position is a word character (false at the end), `dollar`
        /// whether `$` holds.
        private func closure(of state: State, nextIsWord: Bool, dollar: Bool) -> [Int32]? {
            var seen = [Bool](repeating: false, count: program.count)
            var pending = state.pending + [0]
            var live: [Int32] = []
            while let pc = pending.popLast() {
                guard !seen[Int(pc)] else { continue }
                seen[Int(pc)] = true
                let instruction = program[Int(pc)]
                let holds: Bool
                switch instruction.opcode {
                case .byte:
                    live.append(pc)
                    continue
                case .match:
                    return nil
                case .jump:
                    pending.append(instruction.target)
                    continue
                case .split:
                    pending.append(instruction.alternative)
                    pending.append(instruction.target)
                    continue
                case .inputStart: holds = state.atStart
                case .inputEnd: holds = dollar
                case .wordBoundary: holds = state.previousIsWord != nextIsWord
                case .notWordBoundary: holds = state.previousIsWord == nextIsWord
                }
                if holds { pending.append(pc + 1) }
            }
            return live.sorted()
        }

        /// Whether every path from the start passes `^` before it consumes a byte or matches.
        private static func isAnchored(_ program: [Instruction]) -> Bool {
            var seen = [Bool](repeating: false, count: program.count)
            var pending = [0]
            while let pc = pending.popLast() {
                guard !seen[pc] else { continue }
                seen[pc] = true
                let instruction = program[pc]
                switch instruction.opcode {
                case .byte, .match: return false
                case .jump: pending.append(Int(instruction.target))
                case .split: pending.append(contentsOf: [Int(instruction.target), Int(instruction.alternative)])
                case .inputStart: continue
                case .inputEnd, .wordBoundary, .notWordBoundary: pending.append(pc + 1)
                }
            }
            return true
        }
    }
}

// MARK: - Byte sets

extension SimpleRegex {
    /// A set of ASCII bytes, as 128 bits.
    fileprivate struct ByteSet: Sendable, Equatable {
        /// Bytes 0..<64.
        var low: UInt64 = 0
        /// Bytes 64..<128.
        var high: UInt64 = 0

        /// Whether `byte` (below 0x80) is in the set.
        @inline(__always)
        func contains(_ byte: UInt8) -> Bool {
            let word = byte & 64 == 0 ? low : high
            return (word >> UInt64(byte & 63)) & 1 != 0
        }

        mutating func insert(_ byte: UInt8) {
            if byte < 64 { low |= 1 << UInt64(byte) } else { high |= 1 << UInt64(byte - 64) }
        }

        mutating func insert(_ range: ClosedRange<UInt8>) {
            for byte in range { insert(byte) }
        }

        mutating func formUnion(_ other: ByteSet) {
            low |= other.low
            high |= other.high
        }

        /// Every ASCII byte not in the set.
        var inverted: ByteSet { ByteSet(low: ~low, high: ~high) }

        /// The set with the other case of each ASCII letter in it ('a' − 'A' = 32 bits apart).
        var caseClosed: ByteSet {
            let upper = high & ByteSet.upperLetters, lower = high & ByteSet.lowerLetters
            return ByteSet(low: low, high: high | upper << 32 | lower >> 32)
        }

        /// `A`–`Z` in the high word (bits 1–26).
        private static let upperLetters: UInt64 = 0x07FF_FFFE
        /// `a`–`z` in the high word (bits 33–58).
        private static let lowerLetters: UInt64 = 0x07FF_FFFE_0000_0000

        /// `\d`: `0`–`9` (bits 48–57).
        static let digits = ByteSet(low: 0x03FF_0000_0000_0000, high: 0)
        /// `\w`: ICU's word characters `[\p{Alphabetic}\p{M}\p{Nd}\p{Pc}\u200C\u200D]` in ASCII,
        /// `[0-9A-Za-z_]` (`_` is bit 31 of the high word).
        static let word = ByteSet(low: 0x03FF_0000_0000_0000, high: 0x07FF_FFFE_87FF_FFFE)
        /// `\s`: ICU's `\p{White_Space}` in ASCII, `\t \n \v \f \r` (bits 9–13) and space (32).
        static let space = ByteSet(low: 0x0000_0001_0000_3E00, high: 0)
        /// ICU's line terminators in ASCII: `\n \v \f \r` (bits 10–13).
        static let lineTerminators = ByteSet(low: 0x3C00, high: 0)
        /// `.` without `(?s)`: anything but a line terminator.
        static let dot = lineTerminators.inverted
    }
}

// MARK: - Program

extension SimpleRegex {
    /// One NFA instruction. `byte` and the assertions continue at the next instruction.
    fileprivate struct Instruction: Sendable {
        enum Opcode: UInt8, Sendable {
            /// Consumes one byte in `bytes`.
            case byte
            /// Continues at both `target` and `alternative`.
            case split
            /// Continues at `target`.
            case jump
            /// `^`, `$`, `\b`, `\B`.
            case inputStart, inputEnd, wordBoundary, notWordBoundary
            /// The pattern matched.
            case match
        }

        var opcode: Opcode
        var target: Int32 = 0
        var alternative: Int32 = 0
        var bytes = ByteSet()

        init(_ opcode: Opcode, bytes: ByteSet = ByteSet()) {
            self.opcode = opcode
            self.bytes = bytes
        }
    }

    /// The parsed pattern.
    fileprivate indirect enum Node {
        /// One byte of the set.
        case bytes(ByteSet)
        /// A zero-width assertion (its opcode).
        case assertion(Instruction.Opcode)
        case sequence([Node])
        case alternation([Node])
        /// `body` repeated `min` to `max` (nil: unbounded) times.
        case repetition(Node, min: Int, max: Int?)
    }

    /// Emits the Thompson construction of a tree.
    fileprivate struct Compiler {
        /// Beyond this many instructions the pattern is left to ICU (`(a{40}){40}`).
        static let limit = 1_000
        var program: [Instruction] = []

        /// Appends one instruction; false when the program would exceed `limit`.
        mutating func append(_ instruction: Instruction) -> Bool {
            guard program.count < Self.limit else { return false }
            program.append(instruction)
            return true
        }

        /// Appends a split or jump whose targets are filled in later, returning its index.
        private mutating func placeholder(_ opcode: Instruction.Opcode) -> Int? {
            append(Instruction(opcode)) ? program.count - 1 : nil
        }

        private var end: Int32 { Int32(program.count) }

        mutating func emit(_ node: Node) -> Bool {
            switch node {
            case .bytes(let bytes):
                return append(Instruction(.byte, bytes: bytes))
            case .assertion(let opcode):
                return append(Instruction(opcode))
            case .sequence(let items):
                for item in items { guard emit(item) else { return false } }
                return true
            case .alternation(let branches):
                // split L1, L2; L1: branch; jump END; L2: split …; last branch; END:
                var jumps: [Int] = []
                for branch in branches.dropLast() {
                    guard let split = placeholder(.split) else { return false }
                    program[split].target = end
                    guard emit(branch), let jump = placeholder(.jump) else { return false }
                    jumps.append(jump)
                    program[split].alternative = end
                }
                if let last = branches.last { guard emit(last) else { return false } }
                for jump in jumps { program[jump].target = end }
                return true
            case .repetition(let body, let min, let max):
                return emitRepetition(body, min: min, max: max)
            }
        }

        private mutating func emitRepetition(_ body: Node, min: Int, max: Int?) -> Bool {
            let copies = max == nil && min > 0 ? min - 1 : min
            for _ in 0..<copies { guard emit(body) else { return false } }
            if let max {
                // Each optional copy: split L, END; L: body (every split leaves to the same END).
                var splits: [Int] = []
                for _ in min..<max {
                    guard let split = placeholder(.split) else { return false }
                    program[split].target = end
                    splits.append(split)
                    guard emit(body) else { return false }
                }
                for split in splits { program[split].alternative = end }
            } else if min == 0 {
                // LOOP: split L, END; L: body; jump LOOP; END:
                guard let split = placeholder(.split) else { return false }
                program[split].target = end
                guard emit(body), let jump = placeholder(.jump) else { return false }
                program[jump].target = Int32(split)
                program[split].alternative = end
            } else {
                // L: body; split L, END; END:
                let loop = end
                guard emit(body), let split = placeholder(.split) else { return false }
                program[split].target = loop
                program[split].alternative = end
            }
            return true
        }
    }
}

// MARK: - Parsing

extension SimpleRegex {
    /// A recursive-descent parser of the subset; every method returns nil on anything outside it.
    fileprivate struct Parser {
        private let pattern: [UInt8]
        private var index = 0
        private var caseInsensitive = false
        private var depth = 0
        /// The largest bound of `{n,m}` accepted.
        private static let maxCount = 1_000
        /// The deepest group nesting accepted (the parser and compiler recurse on it).
        private static let maxDepth = 64

        init(_ pattern: [UInt8]) {
            self.pattern = pattern
        }

        private var peek: UInt8? { index < pattern.count ? pattern[index] : nil }

        private func peek(_ offset: Int) -> UInt8? {
            index + offset < pattern.count ? pattern[index + offset] : nil
        }

        mutating func parse() -> Node? {
            // ICU rejects the empty pattern.
            guard !pattern.isEmpty, pattern.allSatisfy({ $0 < 0x80 }) else { return nil }
            if pattern.starts(with: Array("(?i)".utf8)) {
                caseInsensitive = true
                index = 4
            }
            guard let node = parseAlternation(), index == pattern.count else { return nil }
            return node
        }

        private mutating func parseAlternation() -> Node? {
            guard let first = parseSequence() else { return nil }
            var branches = [first]
            while peek == UInt8(ascii: "|") {
                index += 1
                guard let branch = parseSequence() else { return nil }
                branches.append(branch)
            }
            return branches.count == 1 ? first : .alternation(branches)
        }

        private mutating func parseSequence() -> Node? {
            var items: [Node] = []
            while let byte = peek, byte != UInt8(ascii: "|"), byte != UInt8(ascii: ")") {
                guard let atom = parseAtom() else { return nil }
                guard let item = parseQuantifier(on: atom) else { return nil }
                items.append(item)
            }
            return items.count == 1 ? items[0] : .sequence(items)
        }

        private mutating func parseAtom() -> Node? {
            guard let byte = peek else { return nil }
            index += 1
            switch byte {
            case UInt8(ascii: "("):
                if peek == UInt8(ascii: "?") {
                    // Only the non-capturing group; lookaround, flags and names go to ICU.
                    guard peek(1) == UInt8(ascii: ":") else { return nil }
                    index += 2
                }
                guard depth < Self.maxDepth else { return nil }
                depth += 1
                defer { depth -= 1 }
                guard let inner = parseAlternation(), peek == UInt8(ascii: ")") else { return nil }
                index += 1
                return inner
            case UInt8(ascii: "["):
                return parseClass()
            case UInt8(ascii: "."):
                return .bytes(ByteSet.dot)
            case UInt8(ascii: "^"):
                return .assertion(.inputStart)
            case UInt8(ascii: "$"):
                return .assertion(.inputEnd)
            case UInt8(ascii: "\\"):
                guard let escape = peek else { return nil }
                index += 1
                switch escape {
                case UInt8(ascii: "b"): return .assertion(.wordBoundary)
                case UInt8(ascii: "B"): return .assertion(.notWordBoundary)
                default:
                    guard let item = Self.escapedItem(escape) else { return nil }
                    return .bytes(item.set ?? folded(item.byte))
                }
            case UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "?"), UInt8(ascii: "{"),
                UInt8(ascii: "}"), UInt8(ascii: "]"):
                // A quantifier on nothing is an error; lone `}` and `]` are left to ICU.
                return nil
            default:
                return .bytes(folded(byte))
            }
        }

        /// A single byte as a set, with its other case when case-insensitive.
        private func folded(_ byte: UInt8) -> ByteSet {
            var set = ByteSet()
            set.insert(byte)
            return caseInsensitive ? set.caseClosed : set
        }

        /// The meaning of `\` + `escape` outside `\b`/`\B`: a set (`\d` …) or one byte.
        private static func escapedItem(_ escape: UInt8) -> (set: ByteSet?, byte: UInt8)? {
            switch escape {
            case UInt8(ascii: "d"): return (ByteSet.digits, 0)
            case UInt8(ascii: "D"): return (ByteSet.digits.inverted, 0)
            case UInt8(ascii: "w"): return (ByteSet.word, 0)
            case UInt8(ascii: "W"): return (ByteSet.word.inverted, 0)
            case UInt8(ascii: "s"): return (ByteSet.space, 0)
            case UInt8(ascii: "S"): return (ByteSet.space.inverted, 0)
            case UInt8(ascii: "t"): return (nil, 0x09)
            case UInt8(ascii: "n"): return (nil, 0x0A)
            case UInt8(ascii: "r"): return (nil, 0x0D)
            case 0x21...0x2F, 0x3A...0x40, 0x5B...0x60, 0x7B...0x7E: return (nil, escape)
            default: return nil  // other letters, digits (backreferences, octal), controls, space
            }
        }

        /// A quantifier after `atom`, if any.
        private mutating func parseQuantifier(on atom: Node) -> Node? {
            guard let byte = peek else { return atom }
            let min: Int, max: Int?
            switch byte {
            case UInt8(ascii: "*"): (min, max) = (0, nil); index += 1
            case UInt8(ascii: "+"): (min, max) = (1, nil); index += 1
            case UInt8(ascii: "?"): (min, max) = (0, 1); index += 1
            case UInt8(ascii: "{"):
                index += 1
                guard let low = parseCount() else { return nil }
                var high: Int? = low
                if peek == UInt8(ascii: ",") {
                    index += 1
                    high = peek == UInt8(ascii: "}") ? nil : parseCount()
                    if high == nil && peek != UInt8(ascii: "}") { return nil }
                }
                guard peek == UInt8(ascii: "}") else { return nil }
                index += 1
                if let high, high < low { return nil }
                (min, max) = (low, high)
            default:
                return atom
            }
            if case .assertion = atom { return nil }
            if peek == UInt8(ascii: "?") {
                index += 1  // lazy: the same answer to "is there a match"
            } else if peek == UInt8(ascii: "+") {
                return nil  // possessive
            }
            if let next = peek, next == UInt8(ascii: "*") || next == UInt8(ascii: "+")
                || next == UInt8(ascii: "?") || next == UInt8(ascii: "{")
            {
                return nil
            }
            return .repetition(atom, min: min, max: max)
        }

        /// A decimal count of at most `maxCount`.
        private mutating func parseCount() -> Int? {
            var value = 0
            var digits = 0
            while let byte = peek, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) {
                value = value * 10 + Int(byte - UInt8(ascii: "0"))
                digits += 1
                index += 1
                guard value <= Self.maxCount else { return nil }
            }
            return digits > 0 ? value : nil
        }

        /// A class after its `[`.
        private mutating func parseClass() -> Node? {
            var negated = false
            if peek == UInt8(ascii: "^") {
                negated = true
                index += 1
            }
            // `[]…]`, `[:alpha:]` and empty classes are left to ICU.
            guard let first = peek, first != UInt8(ascii: "]"), first != UInt8(ascii: ":") else { return nil }
            var set = ByteSet()
            var isFirst = true
            while true {
                guard let byte = peek else { return nil }
                if byte == UInt8(ascii: "]") {
                    index += 1
                    break
                }
                if byte == UInt8(ascii: "-") {
                    // A literal only first or last; elsewhere a set operation or a range with
                    // a set at one end.
                    guard isFirst || peek(1) == UInt8(ascii: "]") else { return nil }
                    guard peek(1) != UInt8(ascii: "-") else { return nil }
                    set.insert(byte)
                    index += 1
                    isFirst = false
                    continue
                }
                isFirst = false
                guard let item = parseClassItem() else { return nil }
                if let itemSet = item.set {
                    set.formUnion(itemSet)
                    continue
                }
                let low = item.byte
                if peek == UInt8(ascii: "-"), let after = peek(1), after != UInt8(ascii: "]") {
                    index += 1
                    guard after != UInt8(ascii: "-"), let end = parseClassItem(), end.set == nil,
                        low <= end.byte
                    else { return nil }
                    set.insert(low...end.byte)
                } else {
                    set.insert(low)
                }
            }
            if caseInsensitive { set = set.caseClosed }
            return .bytes(negated ? set.inverted : set)
        }

        /// One character (or `\d`-like set) inside a class.
        private mutating func parseClassItem() -> (set: ByteSet?, byte: UInt8)? {
            guard let byte = peek else { return nil }
            index += 1
            switch byte {
            case UInt8(ascii: "\\"):
                guard let escape = peek else { return nil }
                index += 1
                return Self.escapedItem(escape)
            case UInt8(ascii: "["), UInt8(ascii: "&"), UInt8(ascii: "{"), UInt8(ascii: "}"),
                UInt8(ascii: "$"):
                // Nested sets, set operations and ICU's special characters inside sets.
                return nil
            default:
                return (nil, byte)
            }
        }
    }
}

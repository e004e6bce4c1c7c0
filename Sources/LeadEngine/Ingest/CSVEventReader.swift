import LeadDomain
import LedgerJSON

/// Reads events from CSV, the shape CRM exports usually take: a header row naming the
/// columns `id`, `type`, `lead`, `at`, `actor`, and any other column as a `data` field
/// (`channel` or `data.channel` alike). Empty cells are left out. Fields known to be numbers
/// (`employees`, `annualRevenue`, `amount`, `score`) and booleans (`recycle`) are typed;
/// everything else is a string. The CSV itself is RFC 4180 as CRM and Excel exports write it
/// (see `CSVRecordReader`): a UTF-8 byte order mark, CRLF or LF, quoted cells with commas,
/// `""` and line breaks. Blank lines, and rows whose cells are all empty, are skipped.
public final class CSVEventReader {
    static let numericFields: Set<String> = ["employees", "annualRevenue", "amount", "score", "mql_threshold"]
    static let booleanFields: Set<String> = ["recycle"]
    static let envelopeColumns: Set<String> = ["id", "type", "lead", "at", "actor"]

    private let records: CSVRecordReader
    private var header: [String]?

    /// Opens `path`, or standard input for `-`. A record longer than `maxRecordBytes` is refused
    /// (`recordIsTooLong`) and not kept. `blockSize`: how much is read at a time (the fuzz
    /// target in tools/fuzz makes it small, to cut records and characters at every place).
    public init(path: String, maxRecordBytes: Int = .max, blockSize: Int = 1 << 20) throws {
        records = try CSVRecordReader(path: path, blockSize: blockSize, maxRecordBytes: maxRecordBytes)
    }

    public var path: String { records.path }
    /// The physical lines read so far.
    public var lineNumber: Int { records.lineNumber }
    public var bytesRead: Int { records.bytesRead }
    public var totalBytes: Int? { records.totalBytes }
    /// Whether the record being handed out was longer than the longest accepted: its text is
    /// then its first bytes only (valid during the call).
    public private(set) var recordIsTooLong = false

    /// Calls `body` with each record's event (or why it is refused), the record's first line
    /// and its text as it was (valid during the call), for as long as `body` returns `true`;
    /// returns `false` once the input has ended. The header row and blank lines are not given.
    public func forEachEvent(_ body: (Result<Envelope, EnvelopeError>, _ line: Int, _ text: UnsafeRawBufferPointer) throws -> Bool) throws -> Bool {
        while true {
            let goOn = try records.next { record -> Bool in
                recordIsTooLong = record.isTooLong
                if !record.isTooLong, record.text.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { return true }
                // (Excel writes a formatted but empty row as commas alone: nothing to store.)
                if record.problem == nil, record.cells.allSatisfy(\.isEmpty) { return true }
                guard let header else {
                    try readHeader(record)
                    return true
                }
                return try body(Self.event(record, header: header), record.line, record.text)
            }
            guard let goOn else { return false }
            if !goOn { return true }
        }
    }

    private func readHeader(_ record: CSVRecordReader.Record) throws {
        if let problem = record.problem {
            let cell = problem.cell.map { "cell \($0 + 1) of " } ?? ""
            throw CSVInputFailure(path: path, line: record.line, message: "\(cell)the header row: \(problem.message)")
        }
        let names = record.cells.map { $0.trimmingSpaces() }
        // Without these every row would be refused, each for the same reason: say it once.
        for required in ["id", "type"] where !names.contains(required) {
            throw CSVInputFailure(path: path, line: record.line, message: "the header row names no \"\(required)\" column (it names \(names.map { "\"\($0)\"" }.joined(separator: ", ")))")
        }
        header = names
    }

    /// The event of a row under `header`, or why it is refused.
    static func event(_ record: CSVRecordReader.Record, header: [String]) -> Result<Envelope, EnvelopeError> {
        if let problem = record.problem {
            let column = problem.cell.map { $0 < header.count ? "column \"\(header[$0])\": " : "cell \($0 + 1): " } ?? ""
            return .failure(EnvelopeError(field: nil, column + problem.message))
        }
        let cells = record.cells
        guard cells.count == header.count else {
            return .failure(EnvelopeError(field: nil, "the row has \(cells.count) cells but the header names \(header.count) columns"))
        }
        var object = JSONObject()
        var data = JSONObject()
        for (name, cell) in zip(header, cells) where !cell.isEmpty {
            if envelopeColumns.contains(name) {
                object[name] = .string(cell)
                continue
            }
            let field = name.hasPrefix("data.") ? String(name.dropFirst(5)) : name
            if numericFields.contains(field) {
                guard let number = Double(cell) else {
                    return .failure(EnvelopeError(field: "data.\(field)", "\"\(cell)\" is not a number"))
                }
                // (`Double(_:)` also reads `inf`, `nan` and `1e400`, which JSON cannot spell.)
                guard number.isFinite else {
                    return .failure(EnvelopeError(field: "data.\(field)", "\"\(cell)\" is not a finite number"))
                }
                data[field] = .number(number)
            } else if booleanFields.contains(field) {
                switch cell.lowercased() {
                case "true", "yes", "1": data[field] = .bool(true)
                case "false", "no", "0": data[field] = .bool(false)
                default: return .failure(EnvelopeError(field: "data.\(field)", "\"\(cell)\" is not true or false"))
                }
            } else {
                data[field] = .string(cell)
            }
        }
        if !data.isEmpty { object["data"] = .object(data) }
        return Result { () throws(EnvelopeError) in try Envelope(json: .object(object)) }
    }
}

extension String {
    func trimmingSpaces() -> String {
        var view = Substring(self)
        while view.first == " " { view.removeFirst() }
        while view.last == " " { view.removeLast() }
        return String(view)
    }
}

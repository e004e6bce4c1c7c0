import LeadDomain
import LedgerJSON

/// Reads events from CSV, the shape CRM exports usually take: a header row naming the
/// columns `id`, `type`, `lead`, `at`, `actor`, and any other column as a `data` field
/// (`channel` or `data.channel` alike). Empty cells are left out. Fields known to be numbers
/// (`employees`, `annualRevenue`, `amount`, `score`) and booleans (`recycle`) are typed;
/// everything else is a string. Quoted cells follow RFC 4180 but may not span lines.
public struct CSVEventReader {
    static let numericFields: Set<String> = ["employees", "annualRevenue", "amount", "score", "mql_threshold"]
    static let booleanFields: Set<String> = ["recycle"]
    static let envelopeColumns: Set<String> = ["id", "type", "lead", "at", "actor"]

    private var header: [String]?

    public init() {}

    /// The event of one line; `nil` for the header line.
    public mutating func event(fromLine line: UnsafeRawBufferPointer) -> Result<Envelope, EnvelopeError>? {
        let cells: [String]
        switch Self.split(line) {
        case .success(let value): cells = value
        case .failure(let error): return .failure(error)
        }
        guard let header else {
            self.header = cells.map { $0.trimmingSpaces() }
            return nil
        }
        guard cells.count == header.count else {
            return .failure(EnvelopeError(field: nil, "the row has \(cells.count) cells but the header names \(header.count) columns"))
        }
        var object = JSONObject()
        var data = JSONObject()
        for (name, cell) in zip(header, cells) where !cell.isEmpty {
            if Self.envelopeColumns.contains(name) {
                object[name] = .string(cell)
                continue
            }
            let field = name.hasPrefix("data.") ? String(name.dropFirst(5)) : name
            if Self.numericFields.contains(field) {
                guard let number = Double(cell) else {
                    return .failure(EnvelopeError(field: "data.\(field)", "\"\(cell)\" is not a number"))
                }
                data[field] = .number(number)
            } else if Self.booleanFields.contains(field) {
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

    static func split(_ line: UnsafeRawBufferPointer) -> Result<[String], EnvelopeError> {
        var cells: [String] = []
        var cell: [UInt8] = []
        var index = 0
        var quoted = false
        var wasQuoted = false
        while index < line.count {
            let byte = line[index]
            if quoted {
                if byte == UInt8(ascii: "\"") {
                    if index + 1 < line.count && line[index + 1] == UInt8(ascii: "\"") {
                        cell.append(byte)
                        index += 1
                    } else {
                        quoted = false
                    }
                } else {
                    cell.append(byte)
                }
            } else if byte == UInt8(ascii: ",") {
                cells.append(String(decoding: cell, as: UTF8.self))
                cell.removeAll(keepingCapacity: true)
                wasQuoted = false
            } else if byte == UInt8(ascii: "\"") && cell.isEmpty && !wasQuoted {
                quoted = true
                wasQuoted = true
            } else {
                cell.append(byte)
            }
            index += 1
        }
        if quoted {
            return .failure(EnvelopeError(field: nil, "unterminated quoted cell (cells may not span lines)"))
        }
        cells.append(String(decoding: cell, as: UTF8.self))
        return .success(cells)
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

import LedgerJSON

/// A report, ready to render: named columns, one row per key, totals, and how to chart it.
/// Every renderer (table, CSV, JSON, HTML) reads the same model, so they always agree.
public struct Report: Sendable {
    public enum Kind: Sendable {
        case count, money, ratio, days, hours, number, text
    }

    public struct Column: Sendable {
        /// The JSON member name.
        public var name: String
        /// The column heading in tables and HTML.
        public var title: String
        public var kind: Kind

        public init(_ name: String, _ title: String? = nil, _ kind: Kind) {
            self.name = name
            self.title = title ?? name
            self.kind = kind
        }
    }

    public struct Row: Sendable {
        public var key: String
        /// One value per column (`.null` when it does not apply).
        public var values: [JSONValue]

        public init(key: String, values: [JSONValue]) {
            self.key = key
            self.values = values
        }
    }

    public enum Chart: Sendable {
        /// Horizontal bars of these columns per row.
        case bars([String])
        /// Funnel steps: the count columns in order, from the totals.
        case funnel([String])
        /// Lines over the rows (in order) for these columns, and bars for `barColumn`.
        case lines([String], barColumn: String?)
        /// Grouped columns: one group for each of the first `limit` rows, one column in each
        /// group for each of these columns (a legend names them).
        case compare([String], limit: Int)
    }

    public var name: String
    public var title: String
    public var model: String?
    public var by: String?
    public var keyTitle: String
    public var columns: [Column]
    public var rows: [Row]
    public var totals: JSONObject
    /// Extra top-level members of the JSON form (settings, ranges).
    public var extra: JSONObject
    public var chart: Chart?
    /// Lines under the table (definitions, decisions).
    public var notes: [String]

    public init(name: String, title: String, model: String? = nil, by: String? = nil, keyTitle: String = "key",
                columns: [Column], rows: [Row] = [], totals: JSONObject = [:], extra: JSONObject = [:], chart: Chart? = nil, notes: [String] = []) {
        self.name = name
        self.title = title
        self.model = model
        self.by = by
        self.keyTitle = keyTitle
        self.columns = columns
        self.rows = rows
        self.totals = totals
        self.extra = extra
        self.chart = chart
        self.notes = notes
    }

    public func value(_ row: Row, _ column: String) -> JSONValue {
        guard let index = columns.firstIndex(where: { $0.name == column }) else { return .null }
        return row.values[index]
    }
}

/// The JSON, CSV and text-table forms of a report.
public enum ReportRenderer {
    /// `{"report","model","by","rows":[{"key",...}],"totals":{...}}` (SPEC section 6).
    public static func json(_ report: Report) -> JSONValue {
        var object: JSONObject = [
            "report": .string(report.name), "model": .nullable(report.model), "by": .nullable(report.by),
        ]
        for member in report.extra { object[member.key] = member.value }
        object["rows"] = .array(report.rows.map { row in
            var values: JSONObject = ["key": .string(row.key)]
            for (column, value) in zip(report.columns, row.values) { values[column.name] = value }
            return .object(values)
        })
        object["totals"] = .object(report.totals)
        return .object(object)
    }

    public static func csv(_ report: Report) -> String {
        var lines = [(["key"] + report.columns.map(\.name)).map(csvCell).joined(separator: ",")]
        for row in report.rows {
            lines.append(([row.key] + row.values.map { plain($0) }).map(csvCell).joined(separator: ","))
        }
        return lines.joined(separator: "\n")
    }

    public static func table(_ report: Report) -> String {
        let header = [report.keyTitle] + report.columns.map(\.title)
        let rows = report.rows.map { row in [row.key] + zip(report.columns, row.values).map { format($1, $0.kind) } }
        let totals = report.totals.isEmpty ? nil
            : ["total"] + report.columns.map { column in report.totals[column.name].map { format($0, column.kind) } ?? "" }
        var widths = header.map(\.count)
        for line in rows + (totals.map { [$0] } ?? []) {
            for (i, cell) in line.enumerated() { widths[i] = max(widths[i], cell.count) }
        }
        func render(_ cells: [String]) -> String {
            cells.enumerated().map { i, cell in
                let pad = String(repeating: " ", count: widths[i] - cell.count)
                return i == 0 || report.columns[i - 1].kind == .text ? cell + pad : pad + cell
            }.joined(separator: "  ")
        }
        let rule = widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")
        var out = [report.title, "", render(header), rule] + rows.map(render)
        if let totals { out += [rule, render(totals)] }
        if report.rows.isEmpty { out.append("(no rows)") }
        if !report.notes.isEmpty { out += [""] + report.notes }
        return out.map { $0.replacingTrailingSpaces() }.joined(separator: "\n")
    }

    /// A value for people: money with two decimals and thousands separators, ratios as %.
    /// A number no double can hold (a sum past 1.8e308, or nothing) is shown as missing, as
    /// the JSON form gives it as null.
    public static func format(_ value: JSONValue, _ kind: Report.Kind) -> String {
        guard case .number(let number) = value else {
            if case .null = value { return "-" }
            return plain(value)
        }
        guard number.isFinite else { return "-" }
        switch kind {
        case .count: return grouped(number, decimals: number == number.rounded() ? 0 : 2)
        case .money: return grouped(number, decimals: 2)
        case .ratio: return (number * 100).isFinite ? grouped(number * 100, decimals: 1) + "%" : "-"
        case .days, .hours, .number: return grouped(number, decimals: number == number.rounded() && abs(number) >= 100 ? 0 : 2)
        case .text: return plain(value)
        }
    }

    static func plain(_ value: JSONValue) -> String {
        switch value {
        case .null: return ""
        case .string(let text): return text
        default: return JSONWriter.render(value)
        }
    }

    /// Below 10^18 with thousands separators and `decimals` decimals (a double's digits past
    /// the 16th or so are its own, not the data's); from there on in the shortest form that
    /// reads back as the same double (`1e+19`), as no integer type holds it; not a number: `-`.
    static func grouped(_ number: Double, decimals: Int) -> String {
        guard number.isFinite else { return "-" }
        let scale = pow10(decimals)
        let rounded = (abs(number) * scale).rounded() / scale
        guard rounded < 1e18, let whole = Int64(exactly: rounded.rounded(.towardZero)) else { return "\(number)" }
        var digits = String(whole)
        var index = digits.count - 3
        while index > 0 {
            digits.insert(",", at: digits.index(digits.startIndex, offsetBy: index))
            index -= 3
        }
        var text = (number < 0 && rounded != 0 ? "-" : "") + digits
        if decimals > 0 {
            let fraction = Int64(((rounded - Double(whole)) * scale).rounded())
            let padded = String(fraction)
            text += "." + String(repeating: "0", count: max(0, decimals - padded.count)) + padded
        }
        return text
    }

    static func pow10(_ n: Int) -> Double {
        (0..<n).reduce(1.0) { value, _ in value * 10 }
    }

    /// One RFC 4180 cell: quoted when it holds a comma, a quote or a line break.
    public static func csvCell(_ cell: String) -> String {
        if cell.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) {
            return "\"" + cell.split(separator: "\"", omittingEmptySubsequences: false).joined(separator: "\"\"") + "\""
        }
        return cell
    }
}

extension String {
    func replacingTrailingSpaces() -> String {
        var view = Substring(self)
        while view.last == " " { view.removeLast() }
        return String(view)
    }
}

import LeadDomain
import LeadEngine
import LedgerJSON

/// How `lead history` and `audit` print events: `{"rows":[...]}` in JSON (SPEC section 6),
/// one row per event in table and CSV.
enum EventRows {
    static func json(_ row: LoggedEvent) -> JSONValue {
        LeadJSON.event(row)
    }

    static func render(_ rows: [LoggedEvent], format: OutputFormat) -> String {
        switch format {
        case .json, .html:
            return JSONWriter.render(["rows": .array(rows.map(json))])
        case .csv:
            return table(rows, compact: false).renderCSV()
        case .table:
            return rows.isEmpty ? "(no events)" : table(rows, compact: true).renderTable()
        }
    }

    private static func table(_ rows: [LoggedEvent], compact: Bool) -> TextTable {
        var table = TextTable(columns: compact
            ? ["position", "at", "type", "lead", "actor", "data"]
            : ["position", "at", "recordedAt", "type", "lead", "actor", "id", "data"])
        table.numeric = [0]
        for row in rows {
            let data = JSONWriter.render(.object(row.event.data))
            // The table is for reading: long data is cut (CSV and JSON carry it whole).
            let shortData = data.count > 90 ? String(data.prefix(89)) + "…" : data
            table.rows.append(compact
                ? [String(row.position), row.event.at.rfc3339, row.event.type.rawValue, row.event.lead ?? "", row.event.actor ?? "", shortData]
                : [String(row.position), row.event.at.rfc3339, row.recordedAt.rfc3339, row.event.type.rawValue, row.event.lead ?? "", row.event.actor ?? "", row.event.id, data])
        }
        return table
    }
}

/// A time option value: RFC 3339, or a bare date meaning its start in UTC.
func parseTime(_ text: String, option: String) throws -> Timestamp {
    guard let time = Timestamp(dateOrDateTime: text) else {
        throw CLIError("\(option) \(text) is not a time: use RFC 3339 (2026-03-01T10:15:00Z) or a date (2026-03-01)")
    }
    return time
}

/// Refuses a time range that holds nothing: `from` must be before `to` ([from, to)).
func checkOrder(_ from: Timestamp?, _ fromOption: String, _ to: Timestamp?, _ toOption: String) throws {
    if let from, let to, from >= to {
        throw CLIError("\(fromOption) \(from.rfc3339) is not before \(toOption) \(to.rfc3339): the range would hold nothing")
    }
}

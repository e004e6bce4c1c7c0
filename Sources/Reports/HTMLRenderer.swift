import LedgerJSON

/// A self-contained HTML page for a report: inline CSS and SVG charts, no scripts, nothing
/// fetched from the network — it can be mailed or opened from disk.
public enum HTMLRenderer {
    static let palette = ["#2563eb", "#f59e0b", "#10b981", "#ef4444", "#8b5cf6", "#0ea5e9", "#84cc16", "#f97316"]

    /// `preamble` is HTML placed before the reports (the server's dashboard puts its model
    /// selector there); the caller escapes what it holds.
    public static func page(_ reports: [Report], title: String, subtitle: String? = nil, preamble: String? = nil) -> String {
        var body = "<h1>\(escape(title))</h1>\n"
        if let subtitle { body += "<p class=\"sub\">\(escape(subtitle))</p>\n" }
        if let preamble { body += preamble + "\n" }
        for report in reports { body += section(report) }
        return """
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(escape(title))</title>
            <style>
            body { font: 14px/1.45 -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; color: #111827; margin: 2rem auto; max-width: 1100px; padding: 0 1rem; }
            h1 { font-size: 1.6rem; margin-bottom: .2rem; } h2 { font-size: 1.2rem; margin-top: 2.2rem; border-bottom: 1px solid #e5e7eb; padding-bottom: .3rem; }
            .sub, .note { color: #6b7280; } .charts { display: flex; flex-wrap: wrap; gap: 1.5rem; }
            figure { margin: .5rem 0; } figcaption { font-weight: 600; margin-bottom: .3rem; }
            table { border-collapse: collapse; margin-top: 1rem; font-variant-numeric: tabular-nums; }
            th, td { padding: .25rem .6rem; border-bottom: 1px solid #f3f4f6; text-align: right; white-space: nowrap; }
            th:first-child, td:first-child { text-align: left; } th { background: #f9fafb; } tr.total td { font-weight: 600; border-top: 2px solid #d1d5db; }
            svg text { font-size: 12px; fill: #374151; } .table { overflow-x: auto; }
            </style>
            </head>
            <body>
            \(body)</body>
            </html>

            """
    }

    static func section(_ report: Report) -> String {
        var html = "<section class=\"report\" data-report=\"\(escape(report.name))\">\n<h2>\(escape(report.title))</h2>\n"
        if let chart = report.chart {
            html += "<div class=\"charts\">\n" + charts(chart, report) + "</div>\n"
        }
        html += table(report)
        for note in report.notes { html += "<p class=\"note\">\(escape(note))</p>\n" }
        return html + "</section>\n"
    }

    static func number(_ value: JSONValue) -> Double? {
        if case .number(let n) = value, n.isFinite { return n }
        return nil
    }

    static func charts(_ chart: Report.Chart, _ report: Report) -> String {
        switch chart {
        case .bars(let columns):
            return columns.enumerated().compactMap { index, name -> String? in
                guard let column = report.columns.first(where: { $0.name == name }) else { return nil }
                let items = report.rows.prefix(15).map { ($0.key, number(report.value($0, name)) ?? 0) }
                return bars(title: column.title, items: items, kind: column.kind, color: palette[index % palette.count])
            }.joined()
        case .funnel(let columns):
            if columns.count == 1, let name = columns.first {
                // One column over the rows (a plan): the rows are the steps.
                let items = report.rows.map { ($0.key, number(report.value($0, name)) ?? 0) }
                return funnel(title: report.columns.first { $0.name == name }?.title ?? name, items: items)
            }
            let items = columns.map { name in (report.columns.first { $0.name == name }?.title ?? name, report.totals[name].flatMap(number) ?? 0) }
            return funnel(title: "All leads", items: items)
        case .lines(let columns, let barColumn):
            return lines(report: report, columns: columns, barColumn: barColumn)
        }
    }

    static func bars(title: String, items: [(String, Double)], kind: Report.Kind, color: String) -> String {
        let width = 520.0, labelWidth = 170.0, barHeight = 22.0
        let height = Double(items.count) * (barHeight + 6) + 10
        let maximum = max(items.map { abs($0.1) }.max() ?? 0, 1e-9)
        var svg = "<figure class=\"chart bars\"><figcaption>\(escape(title))</figcaption>\n"
        svg += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" role=\"img\" aria-label=\"\(escape(title))\">\n"
        for (index, item) in items.enumerated() {
            let y = 5 + Double(index) * (barHeight + 6)
            let length = (width - labelWidth - 90) * abs(item.1) / maximum
            svg += "<text x=\"\(Int(labelWidth - 6))\" y=\"\(format(y + 15))\" text-anchor=\"end\">\(escape(truncate(item.0, 24)))</text>"
            svg += "<rect x=\"\(Int(labelWidth))\" y=\"\(format(y))\" width=\"\(format(length))\" height=\"\(Int(barHeight))\" fill=\"\(color)\" rx=\"3\"><title>\(escape(item.0)): \(escape(ReportRenderer.format(.number(item.1), kind)))</title></rect>"
            svg += "<text x=\"\(format(labelWidth + length + 6))\" y=\"\(format(y + 15))\">\(escape(ReportRenderer.format(.number(item.1), kind)))</text>\n"
        }
        return svg + "</svg></figure>\n"
    }

    static func funnel(title: String, items: [(String, Double)]) -> String {
        let width = 560.0, stepHeight = 34.0
        let height = Double(items.count) * (stepHeight + 4) + 10
        let maximum = max(items.map(\.1).max() ?? 0, 1e-9)
        var svg = "<figure class=\"chart funnel\"><figcaption>\(escape(title))</figcaption>\n"
        svg += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" role=\"img\" aria-label=\"funnel\">\n"
        for (index, item) in items.enumerated() {
            let y = 5 + Double(index) * (stepHeight + 4)
            let barWidth = max(2, (width - 220) * item.1 / maximum)
            let x = 120 + (width - 220 - barWidth) / 2
            svg += "<text x=\"112\" y=\"\(format(y + 22))\" text-anchor=\"end\">\(escape(item.0))</text>"
            svg += "<rect x=\"\(format(x))\" y=\"\(format(y))\" width=\"\(format(barWidth))\" height=\"\(Int(stepHeight))\" fill=\"\(palette[index % palette.count])\" rx=\"4\"><title>\(escape(item.0)): \(escape(ReportRenderer.format(.number(item.1), .count)))</title></rect>"
            svg += "<text x=\"\(Int(width - 92))\" y=\"\(format(y + 22))\">\(escape(ReportRenderer.format(.number(item.1), .count)))</text>\n"
        }
        return svg + "</svg></figure>\n"
    }

    static func lines(report: Report, columns: [String], barColumn: String?) -> String {
        let width = 760.0, height = 300.0, left = 50.0, right = 20.0, top = 20.0, bottom = 40.0
        let n = report.rows.count
        guard n > 0 else { return "" }
        let plotWidth = width - left - right, plotHeight = height - top - bottom
        func x(_ index: Int) -> Double { left + (n == 1 ? plotWidth / 2 : plotWidth * Double(index) / Double(n - 1)) }
        let lineMax = max(columns.flatMap { c in report.rows.compactMap { number(report.value($0, c)) } }.max() ?? 0, 1e-9)
        var svg = "<figure class=\"chart lines\"><figcaption>\(escape(report.title))</figcaption>\n"
        svg += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" role=\"img\" aria-label=\"\(escape(report.title))\">\n"
        svg += "<line x1=\"\(Int(left))\" y1=\"\(Int(top + plotHeight))\" x2=\"\(Int(left + plotWidth))\" y2=\"\(Int(top + plotHeight))\" stroke=\"#9ca3af\"/>\n"
        if let barColumn {
            let values = report.rows.map { number(report.value($0, barColumn)) ?? 0 }
            let barMax = max(values.max() ?? 0, 1e-9)
            let barWidth = max(4, plotWidth / Double(n) * 0.6)
            for (index, value) in values.enumerated() {
                let h = plotHeight * value / barMax
                svg += "<rect x=\"\(format(x(index) - barWidth / 2))\" y=\"\(format(top + plotHeight - h))\" width=\"\(format(barWidth))\" height=\"\(format(h))\" fill=\"#e5e7eb\"><title>\(escape(report.rows[index].key)) \(escape(barColumn)): \(escape(ReportRenderer.format(.number(value), .money)))</title></rect>\n"
            }
            let legendX = left + 8 + Double(columns.count) * 110
            svg += "<rect x=\"\(Int(legendX))\" y=\"\(Int(height - 18))\" width=\"10\" height=\"10\" fill=\"#e5e7eb\"/>"
            svg += "<text x=\"\(Int(legendX + 14))\" y=\"\(Int(height - 8))\">\(escape(report.columns.first { $0.name == barColumn }?.title ?? barColumn)) (bars)</text>\n"
        }
        for (index, column) in columns.enumerated() {
            let points = report.rows.enumerated().map { i, row in
                "\(format(x(i))),\(format(top + plotHeight - plotHeight * (number(report.value(row, column)) ?? 0) / lineMax))"
            }.joined(separator: " ")
            let color = palette[index % palette.count]
            svg += "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\" points=\"\(points)\"><title>\(escape(column))</title></polyline>\n"
            let legendX = left + 8 + Double(index) * 110
            svg += "<rect x=\"\(Int(legendX))\" y=\"\(Int(height - 18))\" width=\"10\" height=\"10\" fill=\"\(color)\"/>"
            svg += "<text x=\"\(Int(legendX + 14))\" y=\"\(Int(height - 8))\">\(escape(report.columns.first { $0.name == column }?.title ?? column))</text>\n"
        }
        // At most about eight labels, so they never overlap.
        let every = max(1, (n + 7) / 8)
        for (index, row) in report.rows.enumerated() where index % every == 0 {
            svg += "<text x=\"\(format(x(index)))\" y=\"\(Int(top + plotHeight + 16))\" text-anchor=\"middle\">\(escape(row.key))</text>\n"
        }
        svg += "<text x=\"\(Int(left - 6))\" y=\"\(Int(top + 4))\" text-anchor=\"end\">\(escape(ReportRenderer.format(.number(lineMax), .count)))</text>\n"
        return svg + "</svg></figure>\n"
    }

    static func table(_ report: Report) -> String {
        var html = "<div class=\"table\"><table>\n<thead><tr><th>\(escape(report.keyTitle))</th>" + report.columns.map { "<th>\(escape($0.title))</th>" }.joined() + "</tr></thead>\n<tbody>\n"
        for row in report.rows {
            html += "<tr><td>\(escape(row.key))</td>" + zip(report.columns, row.values).map { "<td>\(escape(ReportRenderer.format($1, $0.kind)))</td>" }.joined() + "</tr>\n"
        }
        if !report.totals.isEmpty {
            html += "<tr class=\"total\"><td>total</td>" + report.columns.map { column in
                "<td>\(escape(report.totals[column.name].map { ReportRenderer.format($0, column.kind) } ?? ""))</td>"
            }.joined() + "</tr>\n"
        }
        return html + "</tbody>\n</table></div>\n"
    }

    static func format(_ value: Double) -> String {
        String((value * 10).rounded() / 10)
    }

    static func truncate(_ text: String, _ length: Int) -> String {
        text.count <= length ? text : String(text.prefix(length - 1)) + "…"
    }

    public static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.count)
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }
}

import LedgerJSON

/// A self-contained HTML page for a report: inline CSS and SVG charts, no scripts, nothing
/// fetched from the network — it can be mailed or opened from disk.
public enum HTMLRenderer {
    static let palette = ["#2563eb", "#f59e0b", "#10b981", "#ef4444", "#8b5cf6", "#0ea5e9", "#84cc16", "#f97316"]

    /// The models' colours in a comparison (ten, told apart side by side).
    static let comparePalette = ["#1d4ed8", "#0ea5e9", "#14b8a6", "#16a34a", "#84cc16", "#eab308", "#f97316", "#dc2626", "#db2777", "#7c3aed"]

    /// `preamble` is HTML placed before the reports (the server's dashboard puts its model
    /// selector there); the caller escapes what it holds.
    public static func page(_ reports: [Report], title: String, subtitle: String? = nil, preamble: String? = nil) -> String {
        var body = "<h1>\(escape(title))</h1>\n"
        if let subtitle { body += "<p class=\"sub\">\(escape(subtitle))</p>\n" }
        if let preamble { body += preamble + "\n" }
        let ids = sectionIDs(reports)
        if reports.count > 2 {
            // A page of several reports opens with what is on it.
            body += "<nav class=\"toc\">" + zip(reports, ids).map { "<a href=\"#\($1)\">\(escape($0.title))</a>" }.joined(separator: " · ") + "</nav>\n"
        }
        for (report, id) in zip(reports, ids) { body += section(report, id: id) }
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
            svg text { font-size: 12px; fill: #374151; } svg .axis { fill: #6b7280; font-size: 11px; } .table { overflow-x: auto; }
            nav.toc { margin: 1rem 0 0; line-height: 1.9; } nav.toc a { color: #1d4ed8; text-decoration: none; } nav.toc a:hover { text-decoration: underline; }
            </style>
            </head>
            <body>
            \(body)</body>
            </html>

            """
    }

    /// An id for each section, from its title (unique on the page).
    static func sectionIDs(_ reports: [Report]) -> [String] {
        var seen: [String: Int] = [:]
        return reports.map { report in
            var slug = ""
            for character in report.title.lowercased() {
                if character.isASCII && (character.isLetter || character.isNumber) {
                    slug.append(character)
                } else if !slug.isEmpty && slug.last != "-" {
                    slug.append("-")
                }
            }
            while slug.last == "-" { slug.removeLast() }
            if slug.isEmpty { slug = "report" }
            seen[slug, default: 0] += 1
            return seen[slug]! == 1 ? slug : "\(slug)-\(seen[slug]!)"
        }
    }

    static func section(_ report: Report, id: String? = nil) -> String {
        var html = "<section class=\"report\" data-report=\"\(escape(report.name))\"\(id.map { " id=\"\(escape($0))\"" } ?? "")>\n<h2>\(escape(report.title))</h2>\n"
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
        case .compare(let columns, let limit):
            return compare(report: report, columns: columns, limit: limit)
        }
    }

    /// Grouped columns: for each of the first `limit` rows a group, in it one column per
    /// compared column (the models), on a shared axis of shares; a legend above names them.
    static func compare(report: Report, columns: [String], limit: Int) -> String {
        let rows = Array(report.rows.prefix(max(limit, 0)))
        guard !rows.isEmpty, !columns.isEmpty else { return "" }
        let titles = columns.map { name in report.columns.first { $0.name == name }?.title ?? name }
        let kinds = columns.map { name in report.columns.first { $0.name == name }?.kind ?? .ratio }
        let width = 1060.0, left = 46.0, right = 6.0
        let plotWidth = width - left - right
        // The legend flows in lines above the plot.
        var legend = ""
        var x = left, y = 12.0
        for (index, title) in titles.enumerated() {
            let itemWidth = 18 + Double(title.count) * 7
            if x + itemWidth > width - right {
                x = left
                y += 18
            }
            legend += "<rect x=\"\(format(x))\" y=\"\(format(y - 9))\" width=\"11\" height=\"11\" rx=\"2\" fill=\"\(comparePalette[index % comparePalette.count])\"/>"
            legend += "<text x=\"\(format(x + 15))\" y=\"\(format(y + 1))\">\(escape(title))</text>\n"
            x += itemWidth + 14
        }
        let top = y + 24, plotHeight = 250.0
        let height = top + plotHeight + 40
        let values = rows.map { row in columns.map { number(report.value(row, $0)) ?? 0 } }
        let maximum = max(values.joined().max() ?? 0, 1e-9)
        let step = [0.01, 0.02, 0.05, 0.1, 0.2, 0.25, 0.5, 1].first { maximum / $0 <= 6 } ?? 1
        let axisMax = (maximum / step).rounded(.up) * step
        // (The section's heading names the chart.)
        let caption = report.rows.count > rows.count
            ? "The first \(rows.count) of \(report.rows.count) (all in the table)"
            : nil
        var svg = "<figure class=\"chart compare\">" + (caption.map { "<figcaption>\(escape($0))</figcaption>" } ?? "") + "\n"
        svg += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" role=\"img\" aria-label=\"\(escape(report.title))\">\n"
        svg += legend
        var tick = 0.0
        while tick <= axisMax + step / 2 {
            let lineY = top + plotHeight - plotHeight * tick / axisMax
            svg += "<line x1=\"\(Int(left))\" y1=\"\(format(lineY))\" x2=\"\(Int(width - right))\" y2=\"\(format(lineY))\" stroke=\"\(tick == 0 ? "#9ca3af" : "#eef0f3")\"/>"
            svg += "<text class=\"axis\" x=\"\(Int(left - 6))\" y=\"\(format(lineY + 4))\" text-anchor=\"end\">\(escape(kinds[0] == .ratio ? "\(Int((tick * 100).rounded()))%" : ReportRenderer.format(.number(tick), kinds[0])))</text>\n"
            tick += step
        }
        let groupWidth = plotWidth / Double(rows.count)
        let barWidth = groupWidth * 0.84 / Double(columns.count)
        for (group, row) in rows.enumerated() {
            let groupX = left + Double(group) * groupWidth + groupWidth * 0.08
            for (index, value) in values[group].enumerated() {
                let barHeight = plotHeight * max(value, 0) / axisMax
                let tip = "\(row.key), \(titles[index]): \(ReportRenderer.format(.number(value), kinds[index]))"
                svg += "<rect x=\"\(format(groupX + Double(index) * barWidth))\" y=\"\(format(top + plotHeight - barHeight))\" width=\"\(format(max(barWidth - 1, 1)))\" height=\"\(format(barHeight))\" fill=\"\(comparePalette[index % comparePalette.count])\"><title>\(escape(tip))</title></rect>"
            }
            svg += "\n"
            let center = left + (Double(group) + 0.5) * groupWidth
            for (line, text) in wrap(row.key, width: max(Int(groupWidth / 7), 4), lines: 2).enumerated() {
                svg += "<text x=\"\(format(center))\" y=\"\(format(top + plotHeight + 16 + Double(line) * 14))\" text-anchor=\"middle\">\(escape(text))<title>\(escape(row.key))</title></text>\n"
            }
        }
        return svg + "</svg></figure>\n"
    }

    /// `text` in at most `lines` lines of at most `width` characters, broken at spaces where it
    /// can be; what does not fit ends in an ellipsis.
    static func wrap(_ text: String, width: Int, lines: Int) -> [String] {
        var result: [String] = []
        var current = ""
        for word in text.split(separator: " ", omittingEmptySubsequences: true).map(String.init) {
            if current.isEmpty {
                current = word
            } else if current.count + 1 + word.count <= width {
                current += " " + word
            } else {
                result.append(current)
                current = word
            }
        }
        if !current.isEmpty { result.append(current) }
        if result.count > lines {
            result = Array(result.prefix(lines))
            result[lines - 1] += "…"
        }
        return result.map { truncate($0, width) }
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
        // A comparison's cells are shaded by their value, so the table reads as a heat map.
        var shaded: Set<String> = []
        if case .compare(let columns, _) = report.chart { shaded = Set(columns) }
        let hottest = max(report.rows.flatMap { row in
            zip(report.columns, row.values).compactMap { shaded.contains($0.name) ? number($1) : nil }
        }.max() ?? 0, 1e-9)
        for row in report.rows {
            html += "<tr><td>\(escape(row.key))</td>" + zip(report.columns, row.values).map { column, value in
                guard shaded.contains(column.name), let share = number(value), share > 0 else {
                    return "<td>\(escape(ReportRenderer.format(value, column.kind)))</td>"
                }
                let alpha = String(((0.06 + 0.5 * min(share / hottest, 1)) * 100).rounded() / 100)
                return "<td style=\"background: rgba(37, 99, 235, \(alpha))\">\(escape(ReportRenderer.format(value, column.kind)))</td>"
            }.joined() + "</tr>\n"
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

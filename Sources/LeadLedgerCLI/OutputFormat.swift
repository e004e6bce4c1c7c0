import ArgumentParser

/// `--format`: how a command prints its result.
enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case table
    case csv
    case json
    case html
}

/// The `--format` option for commands that print tables, CSV or JSON.
struct FormatOptions: ParsableArguments {
    @Option(help: "Output format: table, csv or json.")
    var format: OutputFormat = .table

    func validate() throws {
        if format == .html {
            throw ValidationError("--format html is only available for reports; use table, csv or json")
        }
    }
}

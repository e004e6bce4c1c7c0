import ArgumentParser
import Foundation
import Reports

struct AttributionPaths: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "attribution",
        abstract: "Attribution over a ChannelAttribution-format paths file (no store needed).",
        discussion: """
            The file: path;total_conversions;total_conversion_value;total_null with paths like \
            a > b > c. Models: first-touch, last-touch, linear (as ChannelAttribution's heuristic \
            models), position-based, and markov (removal effects in closed form; --order K).
            """)

    @Option(help: ArgumentHelp("The paths CSV.", valueName: "FILE")) var paths: String
    @Option(help: "first-touch, last-touch, linear, position-based or markov.") var model: AttributionModel
    @Option(parsing: .unconditional, help: "markov: the chain's order (1 to 4).") var order: Int = 1
    @OptionGroup var output: ReportOutput

    func validate() throws {
        guard model.worksOnPaths else {
            throw ValidationError("--model \(model.rawValue) needs touch times and milestones, which a paths file does not have; use first-touch, last-touch, linear, position-based or markov (or `leadledger report attribution` on a store)")
        }
        try OptionCheck.whole(order, "--order", in: 1...4)
    }

    func run() throws {
        let text: String
        do {
            text = try String(contentsOfFile: paths, encoding: .utf8)
        } catch {
            throw CLIError("cannot read \(paths): \((error as NSError).localizedDescription)")
        }
        let dataset: ChannelPaths
        do {
            dataset = try ChannelPaths(csv: text)
        } catch {
            throw CLIError("\(paths): \(error)")
        }
        try output.emit(dataset.attribution(model, order: order))
    }
}

import Foundation

/// The JSON examples under `Schemas/examples/` that the schemas accept (`valid`) or refuse
/// (`invalid`): several test targets check the engine against the same files.
public enum SchemaExamples {
    public static let folder = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Schemas/examples")

    /// The `.json` files of one folder, sorted by name.
    public static func files(_ subfolder: String) -> [String] {
        let directory = folder.appendingPathComponent(subfolder)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.filter { $0.hasSuffix(".json") }.sorted().map { directory.appendingPathComponent($0).path }
    }
}

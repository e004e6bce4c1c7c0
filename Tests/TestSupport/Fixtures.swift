import Foundation

/// Files under `Tests/Fixtures`, found from this file's path: they are in the repository, so a
/// clone alone runs every test.
public enum Fixtures {
    public static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures")

    /// The path of `Tests/Fixtures/NAME`.
    public static func path(_ name: String) -> String {
        directory.appendingPathComponent(name).path
    }
}

/// The names of one generation of the projection's tables, checkpoint and scores version.
///
/// A rebuild from position 1 builds the other generation while the one in force stays as it
/// is, then one commit makes the new one current (the `meta` key `projection.generation`) and
/// empties the old one. So a rebuild that fails — a corrupt record, a full disk, a kill — leaves
/// the projections in force and the store usable. Generation 0 has the plain names (stores
/// written before generations existed are generation 0).
struct ProjectionTables: Sendable, Equatable {
    static let generationKey = "projection.generation"
    /// Bump the suffix when the projected state changes shape: the store rebuilds it.
    static let checkpointBase = "leads.v5"

    let generation: Int

    private var suffix: String { generation == 0 ? "" : "~\(generation)" }
    var leads: String { "leads" + suffix }
    var journeys: String { "journeys" + suffix }
    var dimensions: String { "dimensions" + suffix }
    /// account ‖ 0 ‖ lead → empty: each account's leads (leads merged away left out).
    var accounts: String { "accounts" + suffix }
    var checkpoint: String { Self.checkpointBase + suffix }
    var scoresVersionKey: String { "scores.rulesVersion" + suffix }

    /// The generation a rebuild builds.
    var other: ProjectionTables { ProjectionTables(generation: 1 - generation) }

    /// The table's name without the generation (for comparisons across generations).
    static func baseName(_ name: String) -> String {
        name.split(separator: "~", maxSplits: 1).first.map(String.init) ?? name
    }
}

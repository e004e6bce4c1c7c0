import EventLog

/// The files of a store directory, and which of them a backup holds.
///
/// A store directory holds the log's LMDB environment (`data.mdb`, and `lock.mdb`, LMDB's
/// table of readers), the log's head (`log.head`), the writer lock (`writer.lock`), the API
/// keys (`keys.json`, with `keys.lock` while they change), the keys of leads' personal fields
/// (`lead-keys.dat`, in a store that encrypts them) and, for a moment, files named
/// `*.tmp` that are about to replace another by a rename.
public enum StoreFiles {
    /// The API keys (`KeyStore`), kept beside the log so that keys change while a server runs.
    public static let apiKeys = "keys.json"

    /// What a backup copies through the log (`EventLog.copy(to:)`): the data file, compacted
    /// from one read snapshot, and a head written for that copy (not the source's head,
    /// which is only rewritten when its writer closes).
    public static var log: [String] { EventLog.copyFiles }

    /// The other files that belong to the store, copied as they are when present, after the
    /// log. Each is replaced whole by a rename when it changes, so one read sees one version
    /// of it — but the lead keys (`LeadKeyStore`), which are also appended to: a copy taken
    /// during an append may end in a torn record, a key no event of the copied log uses
    /// (keys are durable before the commits that use them), cut off when it is opened. A
    /// new file of the store (e.g. a key store) is added here, and backups and restores
    /// carry it from then on. Never here: lock files (`lock.mdb`, `writer.lock`, `keys.lock`),
    /// which belong to the processes running on the source, and `*.tmp` (a write under way).
    public static let companions = [apiKeys, LeadKeyStore.fileName]

    /// Whether `name` may be a file of a backup: a plain name in this directory.
    static func isPlainName(_ name: String) -> Bool {
        !name.isEmpty && name != "." && name != ".." && !name.contains("/") && !name.contains("\0")
    }
}

import Foundation
import LMDB
import Testing
import TestSupport

@Suite("LMDB environment, tables and transactions")
struct EnvironmentTests {
    @Test func putAndGetRoundTrip() throws {
        let dir = TemporaryDirectory("lmdb")
        let env = try Environment(path: dir.path)
        defer { env.close() }
        let table = try env.table("things")
        try env.write { txn in
            try txn.put(table, key: Array("alpha".utf8), value: [1, 2, 3])
        }
        let value = try env.read { txn in try txn.get(table, key: Array("alpha".utf8)) }
        #expect(value == [1, 2, 3])
    }

    /// Several read transactions for work split across threads: what one of them read stays
    /// valid, and unchanged, until the body returns, even after a write replaced it and while
    /// another thread reads through another transaction.
    @Test func readsThroughSeveralTransactionsStayValidUntilTheBodyReturns() throws {
        let dir = TemporaryDirectory("lmdb")
        let env = try Environment(path: dir.path)
        defer { env.close() }
        let table = try env.table("things")
        let old = [UInt8](repeating: 1, count: 3_000)
        try env.write { txn in try txn.put(table, key: Array("k".utf8), value: old) }
        let seen = try env.read(transactions: 3) { txns -> [[UInt8]] in
            #expect(txns.count == 3)
            let first = try Array("k".utf8).withUnsafeBytes { try txns[0].get(table, key: $0) }
            // A write replaces the value (and adds more) while the transactions are open.
            try env.write { txn in
                try txn.put(table, key: Array("k".utf8), value: [UInt8](repeating: 2, count: 3_000))
                for index in 0..<500 { try txn.put(table, key: Array("other-\(index)".utf8), value: [UInt8](repeating: 3, count: 100)) }
            }
            // Another thread reads through the second transaction.
            // (A transaction is no `Sendable` value: handing one to another thread is what
            // `MDB_NOTLS` allows, one thread at a time.)
            nonisolated(unsafe) let other = txns[1]
            nonisolated(unsafe) var read: [UInt8]?
            let reader = Thread { read = try? Array("k".utf8).withUnsafeBytes { try other.get(table, key: $0) }.map(Array.init) }
            reader.start()
            while !reader.isFinished { Thread.sleep(forTimeInterval: 0.001) }
            #expect(read == old)
            let second = try Array("k".utf8).withUnsafeBytes { try txns[2].get(table, key: $0) }
            return [Array(first ?? UnsafeRawBufferPointer(start: nil, count: 0)), Array(second ?? UnsafeRawBufferPointer(start: nil, count: 0))]
        }
        #expect(seen == [old, old])
        let now = try env.read { txn in try txn.get(table, key: Array("k".utf8)) }
        #expect(now == [UInt8](repeating: 2, count: 3_000))
    }

    @Test func missingKeyIsNilNotAnError() throws {
        let dir = TemporaryDirectory("lmdb")
        let env = try Environment(path: dir.path)
        defer { env.close() }
        let table = try env.table("things")
        let value = try env.read { txn in try txn.get(table, key: Array("nothing".utf8)) }
        #expect(value == nil)
        let deleted = try env.write { txn in
            try Array("nothing".utf8).withUnsafeBytes { try txn.delete(table, key: $0) }
        }
        #expect(deleted == false)
    }

    @Test func aThrownErrorAbortsTheWrite() throws {
        struct Boom: Error {}
        let dir = TemporaryDirectory("lmdb")
        let env = try Environment(path: dir.path)
        defer { env.close() }
        let table = try env.table("things")
        #expect(throws: Boom.self) {
            try env.write { txn in
                try txn.put(table, key: Array("k".utf8), value: [9])
                throw Boom()
            }
        }
        let value = try env.read { txn in try txn.get(table, key: Array("k".utf8)) }
        #expect(value == nil)
    }

    @Test func dataSurvivesReopening() throws {
        let dir = TemporaryDirectory("lmdb")
        do {
            let env = try Environment(path: dir.path)
            let table = try env.table("things")
            try env.write { txn in try txn.put(table, key: [1], value: [42]) }
            env.close()
        }
        let env = try Environment(path: dir.path)
        defer { env.close() }
        let table = try env.table("things")
        #expect(try env.read { try $0.get(table, key: [1]) } == [42])
    }

    @Test func anEnvironmentCannotBeOpenedTwiceInOneProcess() throws {
        let dir = TemporaryDirectory("lmdb")
        let env = try Environment(path: dir.path)
        #expect(throws: LMDBError(code: .alreadyOpen, call: "mdb_env_open \(env.path)")) {
            _ = try Environment(path: dir.path)
        }
        env.close()
        // After closing it can be opened again.
        let again = try Environment(path: dir.path)
        again.close()
    }

    @Test func cursorWalksKeysInBigEndianOrder() throws {
        let dir = TemporaryDirectory("lmdb")
        let env = try Environment(path: dir.path)
        defer { env.close() }
        let table = try env.table("numbers")
        try env.write { txn in
            for n: UInt64 in [300, 2, 70_000, 1] {
                try n.withBigEndianBytes { key in try txn.put(table, key: key, value: key) }
            }
        }
        let keys = try env.read { txn in
            try txn.withCursor(table) { cursor in
                var keys: [UInt64] = []
                var entry = try cursor.first()
                while let current = entry {
                    keys.append(UInt64(bigEndianBytes: current.key))
                    entry = try cursor.next()
                }
                return keys
            }
        }
        #expect(keys == [1, 2, 300, 70_000])
    }

    @Test func appendRefusesAKeyOutOfOrder() throws {
        let dir = TemporaryDirectory("lmdb")
        let env = try Environment(path: dir.path)
        defer { env.close() }
        let table = try env.table("numbers")
        #expect(throws: LMDBError.self) {
            try env.write { txn in
                try UInt64(5).withBigEndianBytes { try txn.put(table, key: $0, value: $0, options: .append) }
                try UInt64(4).withBigEndianBytes { try txn.put(table, key: $0, value: $0, options: .append) }
            }
        }
        // The failed write left nothing behind.
        #expect(try env.read { try $0.statistics(table).entries } == 0)
    }

    @Test func duplicateKeysReadBackInOrderInBlocks() throws {
        let dir = TemporaryDirectory("lmdb")
        let env = try Environment(path: dir.path)
        defer { env.close() }
        let table = try env.table("index", options: [.duplicateKeys, .fixedSizeValues])
        let key = Array("lead-1".utf8)
        try env.write { txn in
            for n in 1...5_000 as ClosedRange<UInt64> {
                try n.withBigEndianBytes { value in
                    try key.withUnsafeBytes { try txn.put(table, key: $0, value: value, options: .appendDuplicate) }
                }
            }
        }
        let values = try env.read { txn in
            try txn.withCursor(table) { cursor -> [UInt64] in
                _ = try key.withUnsafeBytes { try cursor.seek($0) }
                #expect(try cursor.duplicateCount() == 5_000)
                var values: [UInt64] = []
                var block = try cursor.multiple()
                while let bytes = block {
                    for offset in stride(from: 0, to: bytes.count, by: 8) {
                        values.append(UInt64(bigEndianBytes: UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + 8])))
                    }
                    block = try cursor.nextMultiple()
                }
                return values
            }
        }
        #expect(values == Array(1...5_000))
    }

    @Test func theMapGrowsWhenFullAndNothingIsLost() throws {
        let dir = TemporaryDirectory("lmdb")
        var options = Environment.Options()
        options.mapSize = 64 * 1024
        let env = try Environment(path: dir.path, options: options)
        defer { env.close() }
        let table = try env.table("blobs")
        let initial = env.mapSize
        let blob = [UInt8](repeating: 7, count: 1_000)
        for batch in 0..<20 {
            try env.write { txn in
                for i in 0..<50 {
                    try UInt64(batch * 50 + i).withBigEndianBytes { key in
                        try blob.withUnsafeBytes { try txn.put(table, key: key, value: $0) }
                    }
                }
            }
        }
        #expect(env.mapSize > initial)
        #expect(try env.read { try $0.statistics(table).entries } == 1_000)
    }

    @Test func errorsNameTheCodeAndTheCall() {
        let error = LMDBError(code: .mapFull, call: "mdb_put events")
        #expect(error.description.contains("mdb_put events"))
        #expect(error.description.contains("MDB_MAP_FULL"))
    }
}

import Foundation
@testable import LeadEngine
import LMDB
import Testing

@Suite("The table of cached leads")
struct LeadTableTests {
    final class Box {
        let number: Int
        init(_ number: Int) { self.number = number }
    }

    /// Random sets, removals and look-ups (ids that differ only in their last bytes, short
    /// ones, one longer than a word) agree with a dictionary, through growth and removals that
    /// shift entries back across the end of the table.
    @Test func agreesWithADictionaryUnderRandomChanges() {
        let table = LeadTable<Box>(capacity: 4)
        var model: [String: Box] = [:]
        var random = SeededRandom(seed: 11)
        let ids = (0..<3_000).map { "L-" + String(format: "%06d", $0) } + ["a", "ab", "", "lead-with-a-longer-id-\u{E9}"]
        for step in 0..<40_000 {
            let id = ids[Int.random(in: 0..<ids.count, using: &random)]
            switch Int.random(in: 0..<10, using: &random) {
            case 0..<5:
                let box = Box(step)
                table.set(box, for: id, hash: LeadTable<Box>.hash(id))
                model[id] = box
            case 5..<8:
                // Only the very object is removed.
                let other = Box(-1)
                #expect(!table.remove(id, ifItIs: other))
                let removed = model[id].map { table.remove(id, ifItIs: $0) } ?? false
                #expect(removed == (model[id] != nil))
                model[id] = nil
            default:
                #expect(table.value(id) === model[id], "\(id)")
            }
            #expect(table.count == model.count)
        }
        for id in ids {
            #expect(table.value(id) === model[id], "\(id)")
            #expect(id.withUTF8Bytes { table.value($0, hash: LeadTable<Box>.hash($0)) } === model[id])
        }
        #expect(Set(table.all.map(\.lead)) == Set(model.keys))
        table.removeAll()
        #expect(table.count == 0 && table.all.isEmpty && table.value(ids[0]) == nil)
    }
}

import LeadDomain
import LedgerJSON
import Testing

@Suite("Journeys: attribution inputs built from events")
struct JourneyTests {
    /// Touches arrive in log order, not time order (anonymous ones are attached late): the
    /// journey keeps them sorted by time, then by position.
    @Test func touchesStaySortedByTimeWhateverOrderTheyArriveIn() {
        let base = Timestamp(microseconds: 1_700_000_000_000_000)
        func at(_ minutes: Int64) -> Timestamp { Timestamp(microseconds: base.microseconds + minutes * 60_000_000) }
        var journey: Journey?
        var names: [String] = []
        func intern(_ value: String?) -> UInt32 {
            guard let value else { return 0 }
            if let index = names.firstIndex(of: value) { return UInt32(index + 1) }
            names.append(value)
            return UInt32(names.count)
        }
        let capture = Envelope(id: "c", type: .leadCaptured, lead: "L-1", at: at(50), data: ["source": "web", "channel": "organic"])
        JourneyBuilder.apply(capture, position: 1, to: &journey, stageAfter: .lead, intern: intern)
        let minutes: [Int64] = [70, 10, 30, 30, 0, 90, 10, 60]
        for (offset, minute) in minutes.enumerated() {
            let touch = Envelope(id: "t\(offset)", type: .touchPageView, lead: "L-1", at: at(minute), data: ["channel": "web", "campaign": .string("c\(offset)")])
            JourneyBuilder.apply(touch, position: UInt64(offset + 2), to: &journey, stageAfter: nil, intern: intern)
        }
        let touches = journey?.touches ?? []
        #expect(touches.count == minutes.count + 1)  // the capture's own touch too
        let order = touches.map { ($0.at.microseconds, $0.position) }
        #expect(order.map(\.1) == [6, 3, 8, 4, 5, 1, 9, 2, 7])
        #expect(zip(order, order.dropFirst()).allSatisfy { $0 < $1 })
    }
}

import LedgerJSON
import Reports
import Testing

@Suite("Report values for people")
struct ReportFormatTests {
    @Test func moneyCountsAndRatiosAreGrouped() {
        #expect(ReportRenderer.format(.number(1_234_567.891), .money) == "1,234,567.89")
        #expect(ReportRenderer.format(.number(-1_234), .count) == "-1,234")
        #expect(ReportRenderer.format(.number(0.125), .ratio) == "12.5%")
    }

    /// Found while fuzzing (the same conversion trap as the scoring rules' caps): a number past
    /// Int64's range, which a valid `amount` of 1e19 makes, trapped in every table report.
    @Test(arguments: [1e19, -1e19, 1.7e308, Double.infinity, -Double.infinity, Double.nan])
    func numbersPastInt64AreShownWithoutTrapping(number: Double) {
        for kind in [Report.Kind.money, .count, .ratio, .days, .number] {
            #expect(!ReportRenderer.format(.number(number), kind).isEmpty)
        }
        #expect(ReportRenderer.format(.number(1e19), .money) == "1e+19")
        // From 10^18 on, tables give the exponent form (grouped digits would be too long to
        // read); below it, grouped digits.
        #expect(ReportRenderer.format(.number(9.1e18), .count) == "9.1e+18")
        #expect(ReportRenderer.format(.number(9.1e17), .count) == "910,000,000,000,000,000")
    }
}

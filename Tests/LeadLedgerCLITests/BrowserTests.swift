import Foundation
import Testing
import TestSupport

/// Headless Chromium, where the machine has it (Debian: `apt-get install chromium`).
enum Chromium {
    static let path: String? = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"]
        .first { FileManager.default.isExecutableFile(atPath: $0) }

    /// Runs it headless on `page` with `arguments`, for at most `seconds`; returns its stdout.
    static func run(_ arguments: [String], page: String, profile: String, seconds: Double = 90) throws -> (status: Int32, stdout: Data) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path ?? "/usr/bin/chromium")
        process.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--user-data-dir=\(profile)"] + arguments + [URL(fileURLWithPath: page).absoluteString]
        let output = Pipe()
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        DispatchQueue.global().asyncAfter(deadline: .now() + seconds) { if process.isRunning { process.terminate() } }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, data)
    }
}

@Suite("The closed-loop page in a browser")
struct BrowserTests {
    /// The demo's page, as a browser reads it: every chart is parsed as SVG and drawn.
    @Test(.enabled(if: Chromium.path != nil, "headless Chromium is not installed"))
    func theDemoPageRendersInHeadlessChromium() throws {
        let dir = TemporaryDirectory("browser")
        let store = dir.file("demo")
        let demo = try LeadLedgerBinary.run(["demo", "--store", store, "--leads", "300", "--end", "2026-05-14T10:23:45Z"])
        #expect(demo.status == 0, "\(demo.stderr)")
        let page = (store as NSString).appendingPathComponent("leadledger-report.html")
        let source = try String(contentsOfFile: page, encoding: .utf8)

        let dom = try Chromium.run(["--dump-dom"], page: page, profile: dir.file("profile"))
        #expect(dom.status == 0)
        let parsed = String(decoding: dom.stdout, as: UTF8.self)
        func count(_ text: String, in html: String) -> Int { html.components(separatedBy: text).count - 1 }
        // Every chart survives the browser's parser as an element of its own.
        #expect(count("<svg", in: parsed) == count("<svg", in: source))
        #expect(count("<svg", in: source) >= 10)
        #expect(count("<rect", in: parsed) == count("<rect", in: source))
        #expect(parsed.contains("chart compare"))

        // And draws: a screenshot of a blank page is a few kilobytes, the report's far more.
        let shot = dir.file("page.png")
        let screenshot = try Chromium.run(["--screenshot=\(shot)", "--window-size=1280,2400", "--hide-scrollbars"], page: page, profile: dir.file("profile"))
        #expect(screenshot.status == 0)
        let png = try Data(contentsOf: URL(fileURLWithPath: shot))
        #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]))
        #expect(png.count > 60_000, "\(png.count) bytes")
    }
}

import Foundation
import LedgerSystem

/// A one-line progress display on stderr, redrawn at most five times a second, and only when
/// stderr is a terminal (so logs and pipes stay clean).
final class Progress {
    private let enabled: Bool
    private var lastDraw: UInt64 = 0
    private var drawn = false
    private let started = DispatchTime.now().uptimeNanoseconds

    init(enabled: Bool = System.isTerminal(System.standardError)) {
        self.enabled = enabled
    }

    /// Seconds since the display was created.
    var elapsed: Double { Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9 }

    func update(_ text: @autoclosure () -> String, force: Bool = false) {
        guard enabled else { return }
        let now = DispatchTime.now().uptimeNanoseconds
        guard force || now - lastDraw > 200_000_000 else { return }
        lastDraw = now
        drawn = true
        FileHandle.standardError.write(Data(("\r\u{1B}[2K" + text()).utf8))
    }

    /// Clears the line so the next output starts clean.
    func finish() {
        guard enabled, drawn else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[2K".utf8))
        drawn = false
    }
}

/// Prints a message to stderr (warnings, notes; never the command's result).
func printToStderr(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}

extension Int {
    /// 1234567 → "1,234,567"
    var grouped: String {
        let digits = String(magnitude)
        var out = ""
        for (index, character) in digits.enumerated() {
            if index > 0 && (digits.count - index) % 3 == 0 { out.append(",") }
            out.append(character)
        }
        return self < 0 ? "-" + out : out
    }
}

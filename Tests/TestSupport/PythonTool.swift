import Foundation
import LedgerJSON

/// Runs one of the repository's Python tools (`tools/NAME`) and parses the JSON it prints.
public enum PythonTool {
    public static let repository = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    public struct Failure: Error, CustomStringConvertible {
        public let tool: String
        public let status: Int32
        public let stderr: String
        public var description: String { "tools/\(tool) exited with \(status): \(stderr)" }
    }

    public static func json(_ tool: String, _ arguments: [String]) throws -> JSONValue {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "\(repository)/tools/\(tool)"] + arguments
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        let errorText = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw Failure(tool: tool, status: process.terminationStatus, stderr: errorText)
        }
        return try JSONParser.parse([UInt8](data))
    }
}

import Foundation

/// Runs the real `leadledger` executable (built next to the test bundle) as a child process.
public enum LeadLedgerBinary {
    public struct Result: Sendable {
        public var status: Int32
        public var stdout: String
        public var stderr: String
    }

    /// The built executable: in the same directory as the running test binary.
    public static var url: URL {
        let exe = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        var directory = exe.deletingLastPathComponent()
        // The test binary may sit inside a `.xctest` bundle directory.
        while directory.pathExtension == "xctest" || directory.lastPathComponent == "MacOS" || directory.lastPathComponent == "Contents" {
            directory = directory.deletingLastPathComponent()
        }
        return directory.appendingPathComponent("leadledger")
    }

    /// Runs `leadledger` with `arguments` and waits for it.
    public static func run(_ arguments: [String], stdin: String? = nil, environment: [String: String] = [:], directory: String? = nil) throws -> Result {
        let process = try start(arguments, environment: environment, directory: directory)
        let input = Pipe()
        let output = Pipe()
        let errors = Pipe()
        process.standardInput = stdin == nil ? FileHandle.nullDevice : input
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        if let stdin {
            input.fileHandleForWriting.write(Data(stdin.utf8))
            try input.fileHandleForWriting.close()
        }
        // Read both pipes to the end before waiting, so a full pipe cannot block the child.
        let outData = output.fileHandleForReading.readDataToEndOfFile()
        let errData = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self), stderr: String(decoding: errData, as: UTF8.self))
    }

    /// Runs `leadledger` with `arguments` and the standard descriptors in `closed` (0, 1, 2)
    /// closed, as `leadledger … <&-` in a shell does (Foundation's `Process` always gives the
    /// child all three): through `/bin/sh -c 'exec … <&-'`. Descriptors left open are pipes
    /// (stdin: at its end).
    public static func runWithClosed(_ closed: Set<Int32>, _ arguments: [String], directory: String? = nil) throws -> Result {
        func quoted(_ word: String) -> String { "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'" }
        let redirections = closed.sorted().map { $0 == 0 ? "<&-" : "\($0)>&-" }.joined(separator: " ")
        let process = try start([], directory: directory)
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "exec " + ([url.path] + arguments).map(quoted).joined(separator: " ") + " " + redirections]
        let output = Pipe()
        let errors = Pipe()
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let outData = output.fileHandleForReading.readDataToEndOfFile()
        let errData = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self), stderr: String(decoding: errData, as: UTF8.self))
    }

    /// Runs `leadledger` with `arguments` (stdin from /dev/null) and returns its result and its
    /// peak resident memory in KiB, as the kernel counted it (`getrusage` of the waited child,
    /// through python3, which the schema tools need anyway).
    public static func runMeasuringPeakMemory(_ arguments: [String], directory: String? = nil) throws -> (result: Result, peakKiB: Int) {
        let script = """
            import json, resource, subprocess, sys
            done = subprocess.run(sys.argv[1:], stdin=subprocess.DEVNULL, capture_output=True)
            print(json.dumps({"status": done.returncode, "peakKiB": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
                              "stdout": done.stdout.decode("utf-8", "replace"), "stderr": done.stderr.decode("utf-8", "replace")}))
            """
        let process = try start([], directory: directory)
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script, url.path] + arguments
        let output = Pipe()
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let json = try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
        let result = Result(status: Int32(json["status"] as? Int ?? -1), stdout: json["stdout"] as? String ?? "", stderr: json["stderr"] as? String ?? "")
        return (result, json["peakKiB"] as? Int ?? -1)
    }

    /// A configured, not yet started, child process (for tests that kill it).
    public static func start(_ arguments: [String], environment: [String: String] = [:], directory: String? = nil) throws -> Process {
        let process = Process()
        process.executableURL = url
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        env.removeValue(forKey: "LEADLEDGER_STORE")
        for (key, value) in environment { env[key] = value }
        process.environment = env
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        return process
    }

    /// Runs `leadledger` in `directory` with its stdout on a terminal, as in a user's shell,
    /// and its stderr in a file. util-linux's `script` (in every Debian system) gives it the
    /// pseudo-terminal; `stdout` is what the terminal showed (its line ends are `\r\n`).
    public static func runOnTerminal(_ arguments: [String], directory: String) throws -> Result {
        func quoted(_ word: String) -> String { "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'" }
        let errorsFile = (directory as NSString).appendingPathComponent("terminal-run.stderr")
        let command = ([url.path] + arguments).map(quoted).joined(separator: " ") + " 2>" + quoted(errorsFile)
        let process = try start([], directory: directory)
        process.executableURL = URL(fileURLWithPath: "/usr/bin/script")
        process.arguments = ["--quiet", "--return", "--command", command, "/dev/null"]
        let output = Pipe()
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let screen = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let errors = (try? String(contentsOfFile: errorsFile, encoding: .utf8)) ?? ""
        try? FileManager.default.removeItem(atPath: errorsFile)
        return Result(status: process.terminationStatus, stdout: String(decoding: screen, as: UTF8.self), stderr: errors)
    }
}

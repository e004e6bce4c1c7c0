#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A finding that is not a crash of its own: two answers that must agree and do not. Printed
/// to stderr, then the process aborts, so that libFuzzer saves the input as a crash.
public func finding(_ message: @autoclosure () -> String, input: UnsafeRawBufferPointer) -> Never {
    var text = "FINDING: \(message())\ninput (\(input.count) bytes): "
    text += String(decoding: input.prefix(2_000), as: UTF8.self).debugDescription
    text += "\n"
    var bytes = Array(text.utf8)
    _ = write(2, &bytes, bytes.count)
    abort()
}

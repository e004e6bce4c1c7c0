import Foundation
import Hummingbird
import Logging

/// One structured log line per request, after its answer: request id, method, path, status
/// and duration — never a key, a query string or a body.
struct RequestLogMiddleware: RouterMiddleware {
    typealias Context = LeadRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let started = ContinuousClock.now
        func log(_ status: Int) {
            let elapsed = ContinuousClock.now - started
            // Hundredths of a millisecond, written without `String(format:)` (every request).
            let hundredths = elapsed.components.seconds * 100_000 + elapsed.components.attoseconds / 10_000_000_000_000
            let fraction = hundredths % 100
            context.logger.info("request", metadata: [
                "method": .string(request.method.rawValue), "path": .string(request.uri.path),
                "status": .stringConvertible(status), "ms": .string("\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction)"),
            ])
        }
        do {
            let response = try await next(request, context)
            log(response.status.code)
            return response
        } catch let error as any HTTPResponseError {
            log(error.status.code)
            throw error
        } catch {
            log(500)
            throw error
        }
    }
}

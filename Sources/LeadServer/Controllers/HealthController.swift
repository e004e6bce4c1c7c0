import Hummingbird
import EventLog
import LeadEngine
import LedgerJSON
import Prometheus

/// `/healthz` (the process answers), `/readyz` (the store can be read and written), `/metrics`
/// (Prometheus text).
struct HealthController {
    let store: LeadStore
    let metrics: ServerMetrics

    func add(to router: Router<LeadRequestContext>) {
        router.get("healthz") { _, _ in jsonResponse(["status": "ok"]) }
        router.get("readyz") { _, _ in
            // (A writer stopped by a failed flush stays stopped: the server needs a restart.)
            if let fault = store.log.writeFault {
                throw Problem(.serviceUnavailable, "the store takes no more writes: \(fault); restart the server once the disk is fixed")
            }
            do {
                let position = try store.log.lastPosition
                return jsonResponse(["status": "ready", "position": .integer(position)])
            } catch {
                throw Problem(.serviceUnavailable, "the store cannot be read: \(StoreFault.describe(error, store: store.path))")
            }
        }
        router.get("openapi.yaml") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/yaml"], body: .init(byteBuffer: ByteBuffer(string: OpenAPIDocument.yaml)))
        }
        router.get("metrics") { _, _ in
            metrics.refresh(head: (try? store.log.lastPosition) ?? 0)
            var bytes: [UInt8] = []
            metrics.registry.emit(into: &bytes)
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"], body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
        }
    }
}

import Hummingbird
import Logging

/// Each request's context: Hummingbird's storage, and the API key that authenticated it.
public struct LeadRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// Set by `AuthMiddleware` for the routes that need a key.
    public var key: APIKey?
    /// How large a body may be read (the events route's limit, which is the largest).
    public var maxUploadSize: Int { 64 << 20 }

    public init(source: Source) {
        coreContext = .init(source: source)
    }
}

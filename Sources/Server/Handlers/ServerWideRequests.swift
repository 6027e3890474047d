// ServerWideRequests: the requests whose target names no resource, answered by
// the operations layer in front of every handler, so an embedder's routes only
// ever see a path (RFC 9112 §3.2): `OPTIONS *` asks about the server as a whole,
// and CONNECT asks for a tunnel, which an origin server does not open.

extension OperationsRoutes {
    /// Answers a request in asterisk-form or authority-form and returns true; returns false
    /// for origin-form and absolute-form requests, which are routed by their path.
    static func answerWithoutResource(_ request: Request, _ response: inout Response) -> Bool {
        switch request.targetForm {
        case .origin, .absolute:
            return false
        case .asterisk:
            // RFC 9110 §9.3.7: OPTIONS * applies to the server in general, "only useful as a ping
            // or no-op". 200 with no content, which the writer frames with Content-Length: 0 as
            // §9.3.7 requires. No Allow: it lists the methods of a target resource (§10.2.1), and
            // "*" is none; which methods the embedder's paths take is for their own answers to say.
            response.status = .ok
            response.body = .empty
        case .authority:
            // The parser lets authority-form through only with CONNECT (RFC 9112 §3.2.3). A tunnel
            // is not implemented here: 501, the answer to a method an origin server does not
            // implement (RFC 9110 §9.1, §15.6.2). Closing after it, so bytes a client sent for the
            // tunnel right behind its CONNECT are never read as requests.
            response.status = .notImplemented
            response.body = .text("not implemented\n")
            response.closeConnection = true
        }
        return true
    }
}

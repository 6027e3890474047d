// ServerConfiguration+Redirect: the checks on `--listen ...,redirect-https[=PORT]`, the
// plain listener whose every request is answered with a redirect to https (HTTPSRedirect).

extension ServerConfiguration {
    /// Whether some listener answers every request with a redirect to https.
    var redirectsToHTTPS: Bool { listen.contains { $0.redirectHTTPSPort != nil } }

    func validateRedirects() throws(ConfigurationError) {
        guard redirectsToHTTPS else { return }
        // The listener a connection came from is known to the event loop alone.
        if !Self.multiListenerModels.contains(model) {
            throw ConfigurationError("--listen ...,redirect-https applies only to the hybrid and reactor models")
        }
    }
}

extension AcceptGate {
    /// What answers the connections of listener `index` if it is a `redirect-https` one.
    func redirect(for index: Int) -> HTTPSRedirect? {
        listeners.addresses[index].redirectHTTPSPort.map { HTTPSRedirect(port: $0) }
    }
}

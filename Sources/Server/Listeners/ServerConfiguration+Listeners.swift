// ServerConfiguration+Listeners: which sockets the server listens on, and the
// checks on `--listen`, `--trusted-proxy`, `--real-ip-header` and the TLS
// certificates made before anything is opened.
import TLS

/// Which request header names the client behind a trusted proxy (nginx's `real_ip_header`).
public enum RealIPHeader: String, CaseIterable, Sendable {
    /// `X-Forwarded-For: client, proxy1, proxy2` (de facto).
    case xForwardedFor = "x-forwarded-for"
    /// `Forwarded: for=client;proto=https, for=proxy1` (RFC 7239).
    case forwarded
}

extension ServerConfiguration {
    /// The listeners to open: those of `--listen`, or one plain listener on `--host`/`--port`.
    public var listenAddresses: [ListenAddress] {
        listen.isEmpty ? [ListenAddress(host: bindAddress, port: port)] : listen
    }

    /// Whether some listener speaks TLS.
    public var servesTLS: Bool { listen.contains { $0.tls } }

    /// Reads and checks the certificates and keys when some listener speaks TLS (nil otherwise):
    /// in the master, before it forks and before it drops privileges.
    public func loadTLS() throws(TLSError) -> TLSContext? {
        servesTLS ? try TLSContext.load(tlsCertificates) : nil
    }

    /// Whether some listener expects a PROXY header on every connection.
    var acceptsProxyProtocol: Bool { listen.contains { $0.proxyProtocol } }

    /// Models that serve several listeners or the PROXY protocol: the event-loop ones.
    static let multiListenerModels: [ServerModel] = [.hybrid, .reactor]

    func validateListeners() throws(ConfigurationError) {
        for (index, address) in listen.enumerated() {
            for earlier in listen[..<index] where earlier.port == address.port && address.port != 0
                && NetworkRange.sameAddress(earlier.host, address.host) {
                throw ConfigurationError("--listen \(Address.displayed(address)) is given twice")
            }
        }
        try validateTLS()
        let needsEventLoop = listen.count > 1 || acceptsProxyProtocol || realIPHeader != nil
        if needsEventLoop && !Self.multiListenerModels.contains(model) {
            throw ConfigurationError("several listeners, proxy-protocol and --real-ip-header apply only to the hybrid and reactor models")
        }
        // A PROXY header sets the client address the log and the handler believe: accepting
        // one from anybody would let any client claim any address. An operator who really
        // wants that says so with --trusted-proxy 0.0.0.0/0 --trusted-proxy ::/0.
        if acceptsProxyProtocol && trustedProxies.isEmpty {
            throw ConfigurationError("--listen ...,proxy-protocol needs --trusted-proxy CIDR (the balancers' addresses)")
        }
        if realIPHeader != nil && trustedProxies.isEmpty {
            throw ConfigurationError("--real-ip-header needs --trusted-proxy CIDR (whose headers to believe)")
        }
    }
}

extension ServerConfiguration {
    /// TLS listeners and certificates come together, on an event-loop model: a blocking
    /// worker would hold a whole process or thread through each handshake.
    private func validateTLS() throws(ConfigurationError) {
        if servesTLS && tlsCertificates.isEmpty {
            throw ConfigurationError("--listen ...,tls needs --tls-certificate PATH and --tls-key PATH")
        }
        if !servesTLS && !tlsCertificates.isEmpty {
            throw ConfigurationError("--tls-certificate needs a TLS listener: --listen ADDRESS:PORT,tls")
        }
        if servesTLS && !Self.multiListenerModels.contains(model) {
            throw ConfigurationError("TLS (--listen ...,tls) applies only to the hybrid and reactor models (got --model \(model.rawValue))")
        }
    }
}

extension Address {
    static func displayed(_ address: ListenAddress) -> String { display(host: address.host, port: address.port) }
}

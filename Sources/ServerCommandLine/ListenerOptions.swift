// ListenerOptions: the flags that say where the server listens, with which
// certificates, and whom it believes about the client's address: --listen,
// --tls-certificate, --tls-key, --tls-ticket-key-rotation, --tls-notsent-lowat, --trusted-proxy,
// --real-ip-header.
import ArgumentParser
import Server

struct ListenerOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Listen on ADDRESS:PORT (IPv6 in brackets: [::1]:8443), repeatable; option tls: HTTPS with the --tls-certificate(s); option proxy-protocol: every connection starts with a PROXY header (v1 or v2) from a --trusted-proxy; option redirect-https[=PORT]: every request is answered 308 to https on PORT (443).",
                               discussion: "Either --listen or --host/--port, not both (like nginx's listen directives).",
                               valueName: "address:port[,tls][,proxy-protocol][,redirect-https[=port]]"))
    var listen: [String] = []

    @Option(help: ArgumentHelp("A PEM certificate chain (leaf first) for the tls listeners, repeatable, each with its --tls-key in the same order; the first is the default, the others are chosen by the client's server name (SNI).",
                               valueName: "path"))
    var tlsCertificate: [String] = []

    @Option(help: ArgumentHelp("The PEM private key (ECDSA or RSA) of the --tls-certificate at the same position; read by the master before --user, refused when readable by every user.",
                               valueName: "path"))
    var tlsKey: [String] = []

    @Option(help: ArgumentHelp("Seconds a session ticket key encrypts new tickets (1 to 604800); a ticket resumes for up to two periods, then costs a full handshake.",
                               valueName: "seconds"))
    var tlsTicketKeyRotation: Int = 3600

    @Option(help: ArgumentHelp("Bytes of encrypted records a TLS connection keeps unsent in its socket at most (TCP_NOTSENT_LOWAT); 0 leaves the kernel's default, no limit.",
                               valueName: "bytes"))
    var tlsNotsentLowat: Int = ServerConfiguration.defaultTLSUnsentLimit

    @Option(help: ArgumentHelp("A network whose PROXY headers (and forwarded headers, with --real-ip-header) are believed, repeatable.",
                               valueName: "cidr"))
    var trustedProxy: [String] = []

    @Option(help: ArgumentHelp("Take the client address from this header when the peer is a trusted proxy: x-forwarded-for or forwarded (RFC 7239); off by default.",
                               valueName: "header"))
    var realIPHeader: String?

    func apply(to configuration: inout ServerConfiguration) {
        configuration.listen = listen.compactMap { try? ListenAddress.parse($0) }
        configuration.tlsCertificates = zip(tlsCertificate, tlsKey).map { TLSCertificatePair(certificatePath: $0, keyPath: $1) }
        configuration.tlsTicketKeyRotation = tlsTicketKeyRotation
        configuration.tlsUnsentLimit = tlsNotsentLowat
        configuration.trustedProxies = TrustedProxies(trustedProxy.compactMap { try? NetworkRange.parse($0) })
        configuration.realIPHeader = realIPHeader.flatMap(RealIPHeader.init(rawValue:))
    }

    /// The flags' own syntax, one line per mistake (ServerConfiguration checks how they combine).
    func validate(host: String?, port: Int?) throws {
        if !listen.isEmpty && (host != nil || port != nil) {
            throw ValidationError("--listen and --host/--port cannot be combined: give every listener with --listen")
        }
        do {
            for text in listen { _ = try ListenAddress.parse(text) }
            for text in trustedProxy { _ = try NetworkRange.parse(text) }
        } catch {
            throw ValidationError(error.message)
        }
        if tlsCertificate.count != tlsKey.count {
            throw ValidationError("--tls-certificate and --tls-key come in pairs (got \(tlsCertificate.count) certificates and \(tlsKey.count) keys)")
        }
        if !(1...604_800).contains(tlsTicketKeyRotation) {
            throw ValidationError("--tls-ticket-key-rotation must be between 1 and 604800 seconds (got \(tlsTicketKeyRotation))")
        }
        if let realIPHeader, RealIPHeader(rawValue: realIPHeader) == nil {
            throw ValidationError("--real-ip-header must be one of \(RealIPHeader.allCases.map(\.rawValue).joined(separator: ", ")) (got '\(realIPHeader)')")
        }
    }
}

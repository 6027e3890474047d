// TLSCertificatePair: one `--tls-certificate PATH` with its `--tls-key PATH`,
// as given on the command line, before anything is read.

/// A certificate chain (PEM: the leaf first, then the intermediates) and its private key.
public struct TLSCertificatePair: Equatable, Sendable {
    public var certificatePath: String
    public var keyPath: String

    public init(certificatePath: String, keyPath: String) {
        self.certificatePath = certificatePath
        self.keyPath = keyPath
    }
}

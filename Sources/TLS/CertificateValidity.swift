// CertificateValidity: a certificate outside its validity period (RFC 5280
// §4.1.2.5) is refused at start rather than served, so the operator learns it
// from the start line instead of from every client's failed handshake.
import CTLS

enum CertificateValidity {
    /// Throws when the leaf certificate of `context` has expired or is not yet valid.
    static func check(_ context: OpaquePointer, path: String) throws(TLSError) {
        guard let certificate = SSL_CTX_get0_certificate(context) else {
            throw TLSError("--tls-certificate \(path): no certificate in the file")
        }
        if let notAfter = X509_get0_notAfter(certificate), X509_cmp_current_time(notAfter) < 0 {
            throw TLSError("--tls-certificate \(path) expired on \(display(notAfter))")
        }
        if let notBefore = X509_get0_notBefore(certificate), X509_cmp_current_time(notBefore) > 0 {
            throw TLSError("--tls-certificate \(path) is not valid before \(display(notBefore))")
        }
    }

    /// "2024-05-01 12:00:00 UTC"
    private static func display(_ time: UnsafePointer<ASN1_TIME>) -> String {
        var parts = tm()
        guard ASN1_TIME_to_tm(time, &parts) == 1 else { return "an unreadable date" }
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday)) "
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)) UTC"
    }
}

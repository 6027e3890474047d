// KernelTLS: whether the kernel can encrypt TLS records itself (the `tls`
// upper-layer protocol, tls(7)), and so which way file bodies travel over TLS:
// with kernel TLS, SSL_sendfile(3) (sendfile(2) on the socket: the bytes never
// enter user space); without it, pread(2) and SSL_write in user space. The
// startup line and /metrics (prefork_tls_file_body_path) say which.
import ServerSystem

public enum KernelTLS {
    /// `tls` is listed in /proc/sys/net/ipv4/tcp_available_ulp (the module is loaded).
    public static var isAvailable: Bool {
        let modules = (try? Files.read("/proc/sys/net/ipv4/tcp_available_ulp", atMost: 4096)) ?? nil
        return modules?.split(whereSeparator: \.isWhitespace).contains("tls") ?? false
    }
}

/// How a TLS context sends file bodies; the raw value is the metric's label.
public enum TLSFileBodyPath: String, Sendable {
    /// The kernel encrypts the records (SSL_OP_ENABLE_KTLS) and SSL_sendfile sends the file.
    /// A connection whose cipher the kernel does not take falls back to pread and SSL_write.
    case kernelSendfile = "ktls_sendfile"
    /// pread(2) 16 KiB at a time, encrypted by SSL_write.
    case preadAndWrite = "pread_ssl_write"

    /// What the startup line says of it.
    public var startupDescription: String {
        switch self {
        case .kernelSendfile: "TLS file bodies by kernel TLS and SSL_sendfile"
        case .preadAndWrite: "TLS file bodies by pread and SSL_write (kernel TLS unavailable)"
        }
    }
}

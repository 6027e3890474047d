// KernelTLS: whether the kernel could encrypt TLS records itself (the `tls`
// upper-layer protocol, tls(7)), which would let a file body go out with
// sendfile(2). This server does not use it yet: file bodies over TLS are read
// and encrypted in user space, and the startup line says so, naming what the
// kernel offers so an operator knows what a later version could gain.
import ServerSystem

public enum KernelTLS {
    /// `tls` is listed in /proc/sys/net/ipv4/tcp_available_ulp (the module is loaded).
    public static var isAvailable: Bool {
        let modules = (try? Files.read("/proc/sys/net/ipv4/tcp_available_ulp", atMost: 4096)) ?? nil
        return modules?.split(whereSeparator: \.isWhitespace).contains("tls") ?? false
    }

    /// What the startup line says of how file bodies travel over TLS.
    public static var fileBodyPath: String {
        "TLS file bodies by pread and SSL_write (kernel TLS " + (isAvailable ? "available, not used)" : "unavailable)")
    }
}

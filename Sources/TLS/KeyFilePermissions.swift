// KeyFilePermissions: a private key that every user of the host can read is
// no longer private. It is refused at start, before OpenSSL reads it, as
// nginx's operators are told to do by hand; group-readable stays allowed, so
// a key can belong to root and a group such as Debian's ssl-cert.
import Glibc
import ServerSystem

enum KeyFilePermissions {
    /// Throws when `path` cannot be examined or is readable by others (mode & 0o004).
    static func check(_ path: String) throws(TLSError) {
        let status: stat
        do {
            status = try Files.status(path)
        } catch {
            throw TLSError("--tls-key \(path): \(error)")
        }
        let mode = status.st_mode & 0o7777
        if mode & 0o004 != 0 {
            throw TLSError("--tls-key \(path) is readable by every user (mode \(String(mode, radix: 8))): "
                + "a private key must not be; chmod o-r it (owner or group readable is enough)")
        }
    }
}

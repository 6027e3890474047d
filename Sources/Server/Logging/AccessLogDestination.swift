// Where the access log goes: nowhere, stdout, or a file every worker appends to.
import Glibc

/// The `--access-log` setting.
public enum AccessLogDestination: Equatable, Sendable {
    /// No access log; the request path pays nothing for it.
    case off
    /// Standard output (`-`), for a supervisor such as systemd or Docker to collect.
    case standardOutput
    /// A file, opened with O_APPEND by each worker and reopened on SIGUSR1.
    case file(String)

    /// `off`, `-` or a path.
    public init(argument: String) {
        switch argument {
        case "off": self = .off
        case "-": self = .standardOutput
        default: self = .file(argument)
        }
    }

    /// Opens the file for appending (creating it 0644 if absent); the caller owns the descriptor.
    static func openFile(_ path: String) throws(SystemError) -> Int32 {
        try blockingSystemCall("open(\(path))", { Glibc.open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644) })
    }

    /// Throws if the log cannot be opened, so a bad path stops the server before it
    /// forks. With `--user`, the master (root) also hands the file to that user, or
    /// the workers, which open it after dropping privileges, could not: nginx's
    /// master does the same. Called again before each USR1 is passed on, so the
    /// fresh file logrotate leaves behind a rename is created with the right owner.
    func checkOpens(owner: Credentials? = nil) throws(SystemError) {
        guard case .file(let path) = self else { return }
        let fd = try Self.openFile(path)
        defer { _ = Glibc.close(fd) }
        if let owner {
            _ = try blockingSystemCall("fchown(\(path), \(owner.name))", { fchown(fd, owner.uid, owner.gid) })
        }
    }
}

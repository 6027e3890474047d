// Where the access log goes: nowhere, stdout, or a file every worker appends to.
import Glibc
import ServerSystem

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

    /// Opens the file for appending (creating it 0644 if absent).
    static func openFile(_ path: String) throws(SystemError) -> FileDescriptor {
        FileDescriptor(try blockingSystemCall("open(\(path))", { Glibc.open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644) }))
    }

    /// Throws if the log cannot be opened, so a bad path stops the server before it
    /// forks. With `--user`, the master (root) also hands the file to that user, or
    /// the workers, which open it after dropping privileges, could not: nginx's
    /// master does the same. Called again before each USR1 is passed on, so the
    /// fresh file logrotate leaves behind a rename gets the right owner.
    func checkOpens(owner: Credentials? = nil) throws(SystemError) {
        guard case .file(let path) = self else { return }
        try Self.openFile(path).close()
        if let owner, geteuid() == 0 { try Self.handOver(path, to: owner) }
    }

    /// Makes `owner` the owner of the log (its group stays), unless it is already. Only
    /// a regular file with one link, reached without following a symbolic link: root
    /// must never hand over whatever a link planted in a directory the user can write
    /// points to (nginx's CVE-2016-1247), nor a device such as /dev/stdout's terminal.
    /// Anything else is left as it is, for the workers to open if their user may.
    private static func handOver(_ path: String, to owner: Credentials) throws(SystemError) {
        let file: FileDescriptor
        do {
            file = FileDescriptor(try blockingSystemCall("open(\(path), O_NOFOLLOW)", {
                Glibc.open(path, O_WRONLY | O_APPEND | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK | O_CLOEXEC)
            }))
        } catch where error.errno == ELOOP {
            return  // a symbolic link
        }
        defer { file.close() }
        let fd = file.raw
        var status = stat()
        _ = try blockingSystemCall("fstat(\(path))", { fstat(fd, &status) })
        guard status.st_mode & S_IFMT == S_IFREG, status.st_nlink == 1, status.st_uid != owner.uid else { return }
        _ = try blockingSystemCall("fchown(\(path), \(owner.name))", { fchown(fd, owner.uid, gid_t.max) })
    }
}

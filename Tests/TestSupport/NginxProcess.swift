// NginxProcess: nginx serving a directory on a free loopback port, as a peer to
// compare the server with. One process (master_process off), its own temporary
// prefix, config and logs; stopped (and reaped) when the value is released.
import Foundation
import Glibc

public final class NginxProcess {
    public let port: Int
    private let pid: pid_t
    private let stdoutPipe: Int32
    private let stderrPipe: Int32
    private let prefix: String

    /// nginx's path, or nil when it is not installed (a test then skips, naming the package).
    public static var executable: String? {
        ["/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/bin/nginx"].first { access($0, X_OK) == 0 }
    }

    /// Starts nginx serving `root`, with `directives` added to its server block.
    public init(root: String, directives: String = "") throws {
        guard let executable = Self.executable else { throw LaunchError("nginx is not installed (Debian package nginx)") }
        prefix = NSTemporaryDirectory() + "nginx-peer-\(getpid())-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: prefix, withIntermediateDirectories: true)
        port = try Self.freePort()
        let config = """
            daemon off;
            master_process off;
            worker_processes 1;
            pid \(prefix)/nginx.pid;
            error_log \(prefix)/error.log;
            events { worker_connections 64; }
            http {
                access_log off;
                client_body_temp_path \(prefix); proxy_temp_path \(prefix); fastcgi_temp_path \(prefix);
                uwsgi_temp_path \(prefix); scgi_temp_path \(prefix);
                types { text/plain txt; text/html html; }
                default_type application/octet-stream;
                charset utf-8;
                charset_types text/plain text/html;
                server { listen 127.0.0.1:\(port); root \(root); \(directives) }
            }
            """
        try config.write(toFile: prefix + "/nginx.conf", atomically: true, encoding: .utf8)
        let launched = try Launch.run(executable, ["-c", prefix + "/nginx.conf", "-p", prefix + "/"], newProcessGroup: true)
        pid = launched.pid
        stdoutPipe = launched.stdout
        stderrPipe = launched.stderr
        let port = port
        guard ServerProcess.eventually(timeoutMilliseconds: 10_000, { (try? TestClient(port: port)) != nil }) else {
            let log = (try? String(contentsOfFile: prefix + "/error.log", encoding: .utf8)) ?? ""
            stop()
            throw LaunchError("nginx did not start listening on 127.0.0.1:\(port): \(log)")
        }
    }

    deinit {
        stop()
    }

    private func stop() {
        killpg(pid, SIGTERM)
        if Launch.waitForExit(pid, timeoutMilliseconds: 5000) == nil {
            killpg(pid, SIGKILL)
            _ = Launch.waitForExit(pid, timeoutMilliseconds: 5000)
        }
        close(stdoutPipe)
        close(stderrPipe)
        try? FileManager.default.removeItem(atPath: prefix)
    }

    /// A loopback port nothing listens on now (bound to port 0, read back, released).
    public static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw LaunchError("socket: errno \(errno)") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer -> Int32 in
                guard bind(fd, pointer, length) == 0 else { return -1 }
                return getsockname(fd, pointer, &length)
            }
        }
        guard bound == 0 else { throw LaunchError("bind(127.0.0.1:0): errno \(errno)") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

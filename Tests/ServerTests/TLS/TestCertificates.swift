// TestCertificates: a throwaway PKI made with the openssl CLI in a temporary
// directory for one test class: a root CA, an intermediate, and leaf chains
// (leaf + intermediate, as a server sends them) with ECDSA P-256 or RSA 2048
// keys. Nothing is committed, and nothing outside the test trusts the root.
import Foundation
import Glibc
import TestSupport
import XCTest

final class TestCertificates {
    enum KeyType {
        case ecdsa, rsa
        var newKey: String { self == .ecdsa ? "-newkey ec -pkeyopt ec_paramgen_curve:P-256" : "-newkey rsa:2048" }
    }

    /// A certificate chain file and its key file.
    struct Pair {
        let certificate: String
        let key: String
        var flags: [String] { ["--tls-certificate", certificate, "--tls-key", key] }
    }

    let directory: String
    /// The root the clients trust (curl --cacert, s_client -CAfile).
    var authority: String { directory + "/ca.pem" }

    /// Skips the test when the openssl or curl command is missing.
    static func requireTools() throws {
        for tool in ["/usr/bin/openssl", "/usr/bin/curl"] {
            try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: tool), "\(tool) is missing: apt-get install openssl curl")
        }
    }

    init() throws {
        try Self.requireTools()
        var template = Array("/tmp/tls-test-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw LaunchError("mkdtemp failed") }
        directory = String(cString: made)
        try Self.shellSucceeding("""
            cd \(directory) && touch index.txt && echo 1000 > serial &&
            printf '[ca]\\ndefault_ca = test\\n[test]\\ndatabase = index.txt\\nnew_certs_dir = .\\nserial = serial\\ndefault_md = sha256\\npolicy = any\\nunique_subject = no\\n[any]\\ncommonName = supplied\\n' > ca.cnf &&
            printf 'basicConstraints=critical,CA:true\\nkeyUsage=critical,keyCertSign,cRLSign\\n' > ca.ext &&
            openssl req -x509 \(KeyType.ecdsa.newKey) -nodes -keyout ca.key -out ca.pem -days 3 -subj '/CN=Test Root' &&
            openssl req -new \(KeyType.ecdsa.newKey) -nodes -keyout int.key -out int.csr -subj '/CN=Test Intermediate' &&
            openssl x509 -req -in int.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out int.pem -days 3 -extfile ca.ext
            """)
    }

    deinit {
        _ = try? Self.shell("rm -rf \(directory)")
    }

    /// A leaf for `names` (DNS names; 127.0.0.1 and ::1 are always added), signed by the
    /// intermediate; `expired` makes one whose validity ended in 2020.
    func leaf(_ name: String, names: [String] = ["localhost"], key: KeyType = .ecdsa, expired: Bool = false) throws -> Pair {
        let base = "\(directory)/\(name)"
        let alternatives = (names.map { "DNS:\($0)" } + ["IP:127.0.0.1", "IP:::1"]).joined(separator: ",")
        let dates = expired ? "-startdate 20200101000000Z -enddate 20200102000000Z" : "-days 3"
        try Self.shellSucceeding("""
            cd \(directory) &&
            printf 'basicConstraints=CA:false\\nextendedKeyUsage=serverAuth\\nsubjectAltName=\(alternatives)\\n' > \(name).ext &&
            openssl req -new \(key.newKey) -nodes -keyout \(name).key -out \(name).csr -subj '/CN=\(names[0])' &&
            openssl ca -batch -notext -config ca.cnf -cert int.pem -keyfile int.key -in \(name).csr -out \(name).leaf.pem \(dates) -extfile \(name).ext &&
            cat \(name).leaf.pem int.pem > \(name).pem && chmod 600 \(name).key
            """)
        return Pair(certificate: base + ".pem", key: base + ".key")
    }

    /// Runs a shell script; throws with its stderr when it fails.
    @discardableResult
    static func shell(_ script: String, timeoutMilliseconds: Int = 30_000) throws -> (status: Int32, stdout: String, stderr: String) {
        let result = try Launch.runToEnd("/bin/sh", ["-c", script], timeoutMilliseconds: timeoutMilliseconds)
        let status = result.status.flatMap(exitCode(ofWaitStatus:)) ?? -1
        return (status, result.stdout, result.stderr)
    }

    /// Like `shell`, but a non-zero exit is an error.
    @discardableResult
    static func shellSucceeding(_ script: String) throws -> String {
        let result = try shell(script)
        guard result.status == 0 else { throw LaunchError("\(script) failed (\(result.status)): \(result.stderr)") }
        return result.stdout
    }
}

extension TestCertificates {
    /// Python for the tests' hand-driven TLS clients (ssl.MemoryBIO, so a client decides which
    /// of its records share a segment): `handshake(context, port)` connects to 127.0.0.1:port and
    /// completes the handshake, sending every flight but the last, which waits in `outgoing`
    /// (under TLS 1.3 the client's Finished).
    static let memoryBIOHandshake = #"""
import socket
import ssl
import sys


def handshake(context, port):
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    session = context.wrap_bio(incoming, outgoing, server_hostname="localhost")
    connection = socket.create_connection(("127.0.0.1", port))
    connection.settimeout(10)
    while True:
        try:
            session.do_handshake()
            return connection, session, incoming, outgoing
        except ssl.SSLWantReadError:
            connection.sendall(outgoing.read())
            data = connection.recv(65536)
            if not data:
                sys.exit("closed during the handshake")
            incoming.write(data)

"""#
}

// TLSContext: the server's certificates, loaded and checked once in the master
// before it forks and before it drops privileges (the workers inherit the
// loaded keys and need no right to read the files), and the OpenSSL settings
// every connection shares: TLS 1.2 and 1.3 only, Mozilla's intermediate cipher
// list, ALPN http/1.1, record buffers released while a connection is idle, a
// certificate chosen by the client's server name (SNI), and kernel TLS
// (SSL_OP_ENABLE_KTLS) where the kernel has the `tls` module when the context
// is loaded, so file bodies can go by SSL_sendfile (TLSSession+Files).
//
// Session tickets are encrypted with keys shared by every worker (TLSTicketKeys).
import CTLS
import Glibc
import ServerSystem

/// Loaded certificates and keys, ready to serve TLS connections.
public final class TLSContext: @unchecked Sendable {
    /// What was loaded, in order: the first pair is the default certificate.
    public let pairs: [TLSCertificatePair]
    /// One SSL_CTX per pair, in the same order.
    let contexts: [OpaquePointer]
    /// How file bodies go: by kernel TLS when the kernel offers the `tls` module at load
    /// time and OpenSSL was built with it, else read and encrypted in user space.
    public let fileBodyPath: TLSFileBodyPath
    /// The write BIO that gathers a file body's records for one write(2) (TLSSession+Files);
    /// one per process, lent to one session at a time by the worker's single loop thread.
    let collector: OpaquePointer
    /// Where a handshake's reads collect what OpenSSL sends meanwhile (the server's flight,
    /// session tickets), to leave in one write(2) (TLSSession.read): one per process, lent to
    /// one session at a time, as the collector. Nil with kernel TLS, which OpenSSL turns on
    /// through the socket's own write BIO during the handshake.
    let staging: UnsafeMutableRawBufferPointer?
    /// The most a handshake read collects before OpenSSL must wait for the socket: a flight
    /// with a certificate chain of several KiB fits many times over.
    static let stagingBytes = 32 * 1024
    /// The SNI callback's view of `contexts` (C memory the callback reads during handshakes).
    private let candidateArray: UnsafeMutablePointer<OpaquePointer?>
    private let candidates: UnsafeMutablePointer<ctls_sni_candidates>
    /// Called once for each connection whose handshake failed (the worker counts them).
    /// Set once after fork, before serving; read only by the worker's own loop.
    package var onHandshakeFailure: (() -> Void)?

    /// Mozilla's "intermediate" TLS 1.2 suites (ssl-config.mozilla.org, guideline 5.7);
    /// TLS 1.3 keeps OpenSSL's defaults, which are that profile's.
    public static let cipherList = "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
        + "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
        + "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"
        + "DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:DHE-RSA-CHACHA20-POLY1305"

    /// Reads and checks every pair: each key private to its owner and group, readable,
    /// matching its certificate, the certificate within its validity period. The error
    /// is one line naming the file and what is wrong with it.
    public static func load(_ pairs: [TLSCertificatePair]) throws(TLSError) -> TLSContext {
        guard !pairs.isEmpty else { throw TLSError("TLS needs at least one --tls-certificate and --tls-key") }
        var contexts: [OpaquePointer] = []
        do throws(TLSError) {
            for pair in pairs { contexts.append(try loadContext(pair)) }
        } catch {
            for context in contexts { SSL_CTX_free(context) }
            throw error
        }
        // Only where the kernel has the `tls` module: elsewhere OpenSSL would try the ULP
        // (a failing setsockopt) after every handshake for nothing.
        let kernel = KernelTLS.isAvailable && contexts.map(ctls_ctx_enable_ktls).allSatisfy { $0 == 1 }
        guard let collector = ctls_collector_new() else {
            for context in contexts { SSL_CTX_free(context) }
            throw TLSError.openSSL("BIO_new (the record collector)")
        }
        return TLSContext(pairs: pairs, contexts: contexts, collector: collector,
                          fileBodyPath: kernel ? .kernelSendfile : .preadAndWrite)
    }

    private init(pairs: [TLSCertificatePair], contexts: [OpaquePointer], collector: OpaquePointer, fileBodyPath: TLSFileBodyPath) {
        self.pairs = pairs
        self.contexts = contexts
        self.collector = collector
        self.fileBodyPath = fileBodyPath
        staging = fileBodyPath == .kernelSendfile ? nil
            : .allocate(byteCount: Self.stagingBytes, alignment: 16)
        candidateArray = .allocate(capacity: contexts.count)
        candidateArray.initialize(from: contexts.map { Optional($0) }, count: contexts.count)
        candidates = .allocate(capacity: 1)
        candidates.initialize(to: ctls_sni_candidates(contexts: candidateArray, count: contexts.count))
        // One certificate serves every name: no callback to match it against each handshake's.
        if contexts.count > 1 {
            for context in contexts { ctls_ctx_select_by_server_name(context, candidates) }
        }
    }

    deinit {
        for context in contexts { SSL_CTX_free(context) }
        ctls_collector_free(collector)
        staging?.deallocate()
        candidates.deallocate()
        candidateArray.deallocate()
    }

    /// One SSL_CTX for `pair`, configured and loaded, or the reason it cannot serve.
    private static func loadContext(_ pair: TLSCertificatePair) throws(TLSError) -> OpaquePointer {
        try KeyFilePermissions.check(pair.keyPath)
        guard let context = SSL_CTX_new(TLS_server_method()) else { throw TLSError.openSSL("SSL_CTX_new") }
        do throws(TLSError) {
            try configure(context)
            guard SSL_CTX_use_certificate_chain_file(context, pair.certificatePath) == 1 else {
                throw TLSError.openSSL("--tls-certificate \(pair.certificatePath): cannot load the certificate chain")
            }
            guard SSL_CTX_use_PrivateKey_file(context, pair.keyPath, SSL_FILETYPE_PEM) == 1 else {
                throw TLSError.openSSL("--tls-key \(pair.keyPath): cannot load the private key")
            }
            guard SSL_CTX_check_private_key(context) == 1 else {
                throw TLSError.openSSL("--tls-key \(pair.keyPath) does not match --tls-certificate \(pair.certificatePath)")
            }
            try CertificateValidity.check(context, path: pair.certificatePath)
            return context
        } catch {
            SSL_CTX_free(context)
            throw error
        }
    }

    /// The settings every context shares (see the file's header).
    private static func configure(_ context: OpaquePointer) throws(TLSError) {
        guard ctls_ctx_set_tls12_and_13(context) == 1 else { throw TLSError.openSSL("SSL_CTX_set_min_proto_version") }
        guard SSL_CTX_set_cipher_list(context, cipherList) == 1 else { throw TLSError.openSSL("SSL_CTX_set_cipher_list") }
        ctls_ctx_set_server_options(context)
        _ = ctls_ctx_set_server_modes(context)
        _ = ctls_ctx_set_dh_auto(context)
        _ = ctls_ctx_disable_session_cache(context)
        ctls_ctx_select_http11(context)
    }

    /// A server-side session over the accepted `socket`; on failure the socket is closed.
    package func makeSession(_ socket: consuming Socket) throws(SystemError) -> TLSSession {
        guard let ssl = SSL_new(contexts[0]) else {
            OpenSSLErrors.discard()
            socket.close()
            throw SystemError(call: "SSL_new(fd \(socket.fd))", errno: ENOMEM)
        }
        guard SSL_set_fd(ssl, socket.fd) == 1 else {
            OpenSSLErrors.discard()
            SSL_free(ssl)
            socket.close()
            throw SystemError(call: "SSL_set_fd(fd \(socket.fd))", errno: ENOMEM)
        }
        guard ctls_use_socket_reader(ssl, socket.fd) == 1 else {
            OpenSSLErrors.discard()
            SSL_free(ssl)
            socket.close()
            throw SystemError(call: "ctls_use_socket_reader(fd \(socket.fd))", errno: ENOMEM)
        }
        SSL_set_accept_state(ssl)
        return TLSSession(socket: socket, ssl: ssl, context: self)
    }
}

// CTLS: the slice of OpenSSL 3 that Swift cannot reach through its importer:
// macros (SSL_CTX_set_mode and friends are SSL_CTX_ctrl calls behind #defines)
// and the two callbacks a server installs (SNI and ALPN selection), written in C
// so that no Swift closure runs inside a handshake, and the record collector
// (a write BIO in C for the same reason). None of them prints or exits; only
// the collector's making allocates. Everything else (SSL_new, SSL_read_ex, ERR_get_error...)
// is a plain function Swift calls through this module's includes.
#ifndef CTLS_H
#define CTLS_H

#include <stddef.h>
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

// The certificates a server chooses among by the client's server name (SNI, RFC 6066 §3).
// Owned by the caller (the Swift TLSContext), which keeps it alive as long as the contexts.
struct ctls_sni_candidates {
    SSL_CTX *const *contexts;
    size_t count;
};

// SSL_CTX_set_mode (a macro): SSL_MODE_RELEASE_BUFFERS, partial writes, moving write buffers, no automatic chain;
// and SSL_CTX_set_read_ahead (a macro too).
long ctls_ctx_set_server_modes(SSL_CTX *ctx);

// SSL_CTX_set_options with the SSL_OP_* bits (macros over 64-bit shifts): no renegotiation
// (a client-initiated one costs the server a handshake per request), no compression
// (CRIME), the client's cipher order (Mozilla's intermediate profile lets clients without
// AES hardware pick ChaCha20).
void ctls_ctx_set_server_options(SSL_CTX *ctx);

// SSL_CTX_set_min_proto_version / _max_ (macros): TLS 1.2 and 1.3 only. 1 on success.
int ctls_ctx_set_tls12_and_13(SSL_CTX *ctx);

// SSL_CTX_set_dh_auto (a macro): built-in DH groups for the DHE suites of the intermediate profile.
long ctls_ctx_set_dh_auto(SSL_CTX *ctx);

// SSL_CTX_set_session_cache_mode (a macro): no per-process cache; resumption uses tickets,
// which any worker can open (the ticket keys are shared), where a cache is per process.
long ctls_ctx_disable_session_cache(SSL_CTX *ctx);

// Installs the ALPN callback that selects http/1.1 (RFC 7301 §3.2: a client offering
// only other protocols gets the no_application_protocol alert).
void ctls_ctx_select_http11(SSL_CTX *ctx);

// Installs the SNI callback (SSL_CTX_set_tlsext_servername_callback/_arg, macros): the
// first candidate whose certificate matches the name (X509_check_host, wildcards
// included) serves the connection; an unknown or absent name keeps the default.
void ctls_ctx_select_by_server_name(SSL_CTX *ctx, const struct ctls_sni_candidates *candidates);

// Session ticket keys shared by every worker: a region the master maps before it forks
// (the layout stays in C: Swift sees an opaque pointer). Three slots in rotation: the
// current key encrypts new tickets, it and the previous one decrypt (a ticket made
// with the previous key is renewed), and the master writes the next key into the
// third, which no worker reads, then publishes it with a release store.
size_t ctls_ticket_keys_size(void);

// Writes a fresh random key (RAND_bytes) into the next slot and makes it current. 1 on success.
int ctls_ticket_keys_rotate(void *region);

// Makes `ctx` encrypt and decrypt tickets with the keys in `region`
// (SSL_CTX_set_tlsext_ticket_key_evp_cb). One region per process.
void ctls_ctx_use_ticket_keys(SSL_CTX *ctx, void *region);

// SSL_CTX_set_options(SSL_OP_ENABLE_KTLS) (a macro): after the handshake, OpenSSL hands the
// record keys to the kernel (tls(7)) when the kernel and the cipher allow it, and
// SSL_sendfile(3) may then send a file without it entering user space. 1 when this
// OpenSSL was built with kernel TLS (the option was set), 0 when it was not (OPENSSL_NO_KTLS).
int ctls_ctx_enable_ktls(SSL_CTX *ctx);

// BIO_get_ktls_send(SSL_get_wbio(ssl)) (macros): 1 when the kernel encrypts this
// connection's outgoing records, so SSL_sendfile(3) can be used on it.
int ctls_ktls_send(const SSL *ssl);

// SSL_get_servername for the host name type, or NULL.
const char *ctls_server_name(const SSL *ssl);

// The record collector: several TLS records in one write(2) instead of one each. OpenSSL
// writes every record to its write BIO as soon as it is made, so a file body of 16 KiB
// records cost a write(2) and a TCP segment per record (65 per MiB, as nginx); made into
// a caller's buffer, four records leave in one write and one segment. The collector is a
// write BIO made once per process (BIO_meth_new, BIO_new: the only allocation here, at
// start); ctls_collector_free releases it.
BIO *ctls_collector_new(void);
void ctls_collector_free(BIO *collector);

// SSL_write_ex of all `length` bytes with the collector as the SSL's write BIO for the call
// (the socket's BIO is put back before it returns): the records land in `out`, *filled bytes
// of it. 1 on success; 0 when SSL_write_ex failed (the connection is over; the error queue
// holds why) or the records would not fit in `capacity`.
int ctls_write_collected(SSL *ssl, BIO *collector, const void *bytes, size_t length,
                         void *out, size_t capacity, size_t *filled);

// SSL_read_ex with the collector as the SSL's write BIO for the call: what the read makes
// OpenSSL send (a handshake flight, session tickets) lands in `out` from *filled on, and
// *filled says where it ends; *readbytes is what the read returned. The result is
// SSL_get_error's code for the read (SSL_ERROR_NONE on success), asked before the socket's
// BIO is put back; SSL_ERROR_WANT_WRITE when the bytes to send would not fit in `capacity`
// (the rest is sent by the next call). The caller sends the collected bytes itself: a
// handshake's flight in one write(2) as before, the tickets with the first answer's records.
int ctls_read_staging_writes(SSL *ssl, BIO *collector, void *bytes, size_t length, size_t *readbytes,
                             void *out, size_t capacity, size_t *filled);

// SSL_shutdown with the collector as the SSL's write BIO: the close_notify alert (and any
// record OpenSSL still held) lands in `out`, *filled bytes of it, for the caller to send with
// MSG_MORE ahead of the FIN. SSL_shutdown's result (< 0 when the bytes did not fit).
int ctls_shutdown_collected(SSL *ssl, BIO *collector, void *out, size_t capacity, size_t *filled);

// The socket reader: a session's read BIO, reading its socket as OpenSSL's socket BIO
// does, that also notes when a read(2) returned fewer bytes than OpenSSL asked for (read
// ahead asks for a whole record buffer): the socket was empty then, as good as EAGAIN.
// A request on a keep-alive connection then costs one read(2), not two (the second only
// to meet EAGAIN). It is one BIO_new per session, its state kept in the BIO's data pointer;
// the socket BIO SSL_set_fd made stays the write BIO (kernel TLS sends through it).
int ctls_use_socket_reader(SSL *ssl, int fd);
// While the note is set, a read OpenSSL asks for is answered "retry" without a system call
// (the handshake's read of the client's second flight, right after the server sent its own,
// met EAGAIN on every connection). The caller clears the note whenever the socket may have
// more (every readable event): reads after this call set it again.
void ctls_reader_forget(SSL *ssl);
// 1 when the reader's last read(2) since ctls_reader_forget returned fewer bytes than asked.
int ctls_reader_drained(const SSL *ssl);

#endif

// CTLS: pass-throughs for OpenSSL macros and the server's two selection callbacks.
#include "CTLS.h"
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdatomic.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

long ctls_ctx_set_server_modes(SSL_CTX *ctx) {
    // Read ahead: one read(2) takes what the socket holds (up to a record buffer) instead of
    // a record's 5-byte header and then its body in two reads (SSL_CTX_set_read_ahead(3)),
    // which was one extra syscall per request on a keep-alive connection.
    SSL_CTX_set_read_ahead(ctx, 1);
    // RELEASE_BUFFERS: an idle connection gives its 16 KiB+ record buffers back.
    // ENABLE_PARTIAL_WRITE and ACCEPT_MOVING_WRITE_BUFFER: a write may take part of the
    // bytes, and the retry after WANT_WRITE may pass them from another address (SSL_write(3)).
    // NO_AUTO_CHAIN: the chain sent is the one --tls-certificate holds, as nginx does; without
    // it, a file with the leaf alone made OpenSSL try to build a chain from the (empty)
    // certificate store on every handshake.
    return SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE
                                 | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_NO_AUTO_CHAIN);
}

void ctls_ctx_set_server_options(SSL_CTX *ctx) {
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
    SSL_CTX_clear_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE);
}

int ctls_ctx_set_tls12_and_13(SSL_CTX *ctx) {
    return SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) == 1
        && SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) == 1;
}

long ctls_ctx_set_dh_auto(SSL_CTX *ctx) {
    return SSL_CTX_set_dh_auto(ctx, 1);
}

long ctls_ctx_disable_session_cache(SSL_CTX *ctx) {
    return SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
}

// "http/1.1" in ALPN's wire format: a length byte, then the name.
static const unsigned char http11[] = { 8, 'h', 't', 't', 'p', '/', '1', '.', '1' };

static int select_http11(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                         const unsigned char *in, unsigned int inlen, void *arg) {
    (void)ssl;
    (void)arg;
    unsigned char *selected = NULL;
    if (SSL_select_next_proto(&selected, outlen, http11, sizeof http11, in, inlen) != OPENSSL_NPN_NEGOTIATED) {
        return SSL_TLSEXT_ERR_ALERT_FATAL;
    }
    *out = selected;
    return SSL_TLSEXT_ERR_OK;
}

void ctls_ctx_select_http11(SSL_CTX *ctx) {
    SSL_CTX_set_alpn_select_cb(ctx, select_http11, NULL);
}

static int select_by_server_name(SSL *ssl, int *alert, void *arg) {
    (void)alert;
    const struct ctls_sni_candidates *candidates = arg;
    const char *name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
    if (name == NULL || candidates == NULL) return SSL_TLSEXT_ERR_NOACK;
    size_t length = strlen(name);
    for (size_t index = 0; index < candidates->count; index++) {
        SSL_CTX *candidate = candidates->contexts[index];
        X509 *certificate = SSL_CTX_get0_certificate(candidate);
        if (certificate == NULL || X509_check_host(certificate, name, length, 0, NULL) != 1) continue;
        if (candidate != SSL_get_SSL_CTX(ssl)) SSL_set_SSL_CTX(ssl, candidate);
        return SSL_TLSEXT_ERR_OK;
    }
    // An unknown name is served the default certificate, as nginx does; the client decides.
    return SSL_TLSEXT_ERR_OK;
}

void ctls_ctx_select_by_server_name(SSL_CTX *ctx, const struct ctls_sni_candidates *candidates) {
    SSL_CTX_set_tlsext_servername_callback(ctx, select_by_server_name);
    SSL_CTX_set_tlsext_servername_arg(ctx, (void *)candidates);
}

int ctls_ctx_enable_ktls(SSL_CTX *ctx) {
#ifdef OPENSSL_NO_KTLS
    (void)ctx;
    return 0;
#else
    SSL_CTX_set_options(ctx, SSL_OP_ENABLE_KTLS);
    return 1;
#endif
}

int ctls_ktls_send(const SSL *ssl) {
    BIO *wbio = SSL_get_wbio(ssl);
    return wbio != NULL && BIO_get_ktls_send(wbio) ? 1 : 0;
}

const char *ctls_server_name(const SSL *ssl) {
    return SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
}

// RFC 5077 §4's recommended ticket protection: AES-256-CBC with HMAC-SHA256, named by 16 bytes.
struct ticket_key {
    unsigned char name[16];
    unsigned char aes[32];
    unsigned char hmac[32];
};

enum { TICKET_KEY_SLOTS = 3 };

struct ticket_keys {
    // 0 until the first key; the current key is slots[generation % TICKET_KEY_SLOTS].
    _Atomic uint64_t generation;
    struct ticket_key slots[TICKET_KEY_SLOTS];
};

_Static_assert(sizeof(struct ticket_key) == 80, "ticket key layout");

size_t ctls_ticket_keys_size(void) {
    return sizeof(struct ticket_keys);
}

int ctls_ticket_keys_rotate(void *region) {
    struct ticket_keys *keys = region;
    uint64_t next = atomic_load_explicit(&keys->generation, memory_order_relaxed) + 1;
    struct ticket_key *key = &keys->slots[next % TICKET_KEY_SLOTS];
    if (RAND_bytes((unsigned char *)key, sizeof *key) != 1) return 0;
    atomic_store_explicit(&keys->generation, next, memory_order_release);
    return 1;
}

// Set once per process, before any handshake (the callback has no argument of its own).
static struct ticket_keys *shared_ticket_keys;

static int init_hmac(EVP_MAC_CTX *hmac, const struct ticket_key *key) {
    OSSL_PARAM parameters[] = {
        OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY, (void *)key->hmac, sizeof key->hmac),
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, "SHA256", 0),
        OSSL_PARAM_construct_end(),
    };
    return EVP_MAC_CTX_set_params(hmac, parameters);
}

// SSL_CTX_set_tlsext_ticket_key_evp_cb(3): 1 to use the key, 2 to use it and issue a fresh
// ticket, 0 for an unknown name (a full handshake), -1 on error. A fresh ticket goes out when
// the key was the previous one, and after every TLS 1.3 resumption: OpenSSL sends a TLS 1.3
// client no new ticket on a resumption the callback answers 1, and RFC 8446 §C.4 says a client
// should not use a ticket twice; a client that follows it (or keeps only its last session, as
// wrk does) would otherwise pay a full handshake on every other connection.
static int ticket_key_callback(SSL *ssl, unsigned char name[16], unsigned char *iv,
                               EVP_CIPHER_CTX *cipher, EVP_MAC_CTX *hmac, int encrypt) {
    const struct ticket_keys *keys = shared_ticket_keys;
    uint64_t generation = atomic_load_explicit(&keys->generation, memory_order_acquire);
    if (generation == 0) return encrypt ? -1 : 0;
    if (encrypt) {
        const struct ticket_key *key = &keys->slots[generation % TICKET_KEY_SLOTS];
        if (RAND_bytes(iv, EVP_CIPHER_get_iv_length(EVP_aes_256_cbc())) != 1) return -1;
        memcpy(name, key->name, sizeof key->name);
        if (EVP_EncryptInit_ex(cipher, EVP_aes_256_cbc(), NULL, key->aes, iv) != 1) return -1;
        return init_hmac(hmac, key) == 1 ? 1 : -1;
    }
    for (uint64_t age = 0; age < 2 && age < generation; age++) {
        const struct ticket_key *key = &keys->slots[(generation - age) % TICKET_KEY_SLOTS];
        if (memcmp(name, key->name, sizeof key->name) != 0) continue;
        if (EVP_DecryptInit_ex(cipher, EVP_aes_256_cbc(), NULL, key->aes, iv) != 1) return -1;
        if (init_hmac(hmac, key) != 1) return -1;
        return age == 0 && SSL_version(ssl) != TLS1_3_VERSION ? 1 : 2;
    }
    return 0;
}

void ctls_ctx_use_ticket_keys(SSL_CTX *ctx, void *region) {
    shared_ticket_keys = region;
    SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, ticket_key_callback);
}

// The record collector: a write BIO that appends to a buffer the caller lends for one
// ctls_write_collected call, all or nothing (a write that does not fit is refused as a
// retry, which the caller sizes its buffer never to meet).
struct collector {
    unsigned char *out;
    size_t capacity;
    size_t length;
};

static int collector_write(BIO *bio, const char *in, int length) {
    struct collector *state = BIO_get_data(bio);
    BIO_clear_retry_flags(bio);
    if (length <= 0) return 0;
    if (state == NULL || (size_t)length > state->capacity - state->length) {
        BIO_set_retry_write(bio);
        return -1;
    }
    memcpy(state->out + state->length, in, (size_t)length);
    state->length += (size_t)length;
    return length;
}

// Only BIO_flush (after a handshake flight) is answered; other controls (kernel TLS, pending) are 0.
static long collector_ctrl(BIO *bio, int cmd, long num, void *ptr) {
    (void)bio;
    (void)num;
    (void)ptr;
    return cmd == BIO_CTRL_FLUSH ? 1 : 0;
}

BIO *ctls_collector_new(void) {
    static BIO_METHOD *method;
    if (method == NULL) {
        BIO_METHOD *made = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "record collector");
        if (made == NULL || BIO_meth_set_write(made, collector_write) != 1 || BIO_meth_set_ctrl(made, collector_ctrl) != 1) {
            BIO_meth_free(made);
            return NULL;
        }
        method = made;
    }
    BIO *bio = BIO_new(method);
    if (bio != NULL) BIO_set_init(bio, 1);
    return bio;
}

void ctls_collector_free(BIO *collector) {
    BIO_free(collector);
}

int ctls_write_collected(SSL *ssl, BIO *collector, const void *bytes, size_t length,
                         void *out, size_t capacity, size_t *filled) {
    struct collector state = { out, capacity, 0 };
    *filled = 0;
    BIO *socket = SSL_get_wbio(ssl);
    if (socket == NULL || BIO_up_ref(socket) != 1) return 0;
    if (BIO_up_ref(collector) != 1) {
        BIO_free(socket);
        return 0;
    }
    BIO_set_data(collector, &state);
    // SSL_set0_wbio(3) frees the BIO it replaces: each swap hands over one of the references taken above.
    SSL_set0_wbio(ssl, collector);
    int ok = 1;
    size_t done = 0;
    while (done < length) {
        size_t written = 0;
        // Partial-write mode: one record per call.
        if (SSL_write_ex(ssl, (const unsigned char *)bytes + done, length - done, &written) != 1) {
            ok = 0;
            break;
        }
        done += written;
    }
    SSL_set0_wbio(ssl, socket);
    BIO_set_data(collector, NULL);
    *filled = state.length;
    return ok;
}

int ctls_read_staging_writes(SSL *ssl, BIO *collector, void *bytes, size_t length, size_t *readbytes,
                             void *out, size_t capacity, size_t *filled) {
    struct collector state = { out, capacity, *filled };
    *readbytes = 0;
    BIO *socket = SSL_get_wbio(ssl);
    if (socket == NULL || BIO_up_ref(socket) != 1) return SSL_ERROR_SSL;
    if (BIO_up_ref(collector) != 1) {
        BIO_free(socket);
        return SSL_ERROR_SSL;
    }
    BIO_set_data(collector, &state);
    SSL_set0_wbio(ssl, collector);
    int result = SSL_read_ex(ssl, bytes, length, readbytes);
    // SSL_get_error(3) reads the write BIO's retry flags: asked while the collector is in place.
    int error = result == 1 ? SSL_ERROR_NONE : SSL_get_error(ssl, 0);
    SSL_set0_wbio(ssl, socket);
    BIO_set_data(collector, NULL);
    *filled = state.length;
    return error;
}

int ctls_shutdown_collected(SSL *ssl, BIO *collector, void *out, size_t capacity, size_t *filled) {
    struct collector state = { out, capacity, 0 };
    *filled = 0;
    BIO *socket = SSL_get_wbio(ssl);
    if (socket == NULL || BIO_up_ref(socket) != 1) return -1;
    if (BIO_up_ref(collector) != 1) {
        BIO_free(socket);
        return -1;
    }
    BIO_set_data(collector, &state);
    SSL_set0_wbio(ssl, collector);
    int result = SSL_shutdown(ssl);
    SSL_set0_wbio(ssl, socket);
    BIO_set_data(collector, NULL);
    *filled = state.length;
    return result;
}

// The socket reader. Its state lives in the BIO's data pointer, not in an allocation:
// the descriptor shifted left by two, bit 1 for the end of the stream (BIO_eof, which
// OpenSSL asks to tell a peer's unannounced close from an error), bit 0 for "drained".
enum { reader_drained = 1, reader_end = 2 };

static int reader_read(BIO *bio, char *out, int length) {
    intptr_t state = (intptr_t)BIO_get_data(bio);
    BIO_clear_retry_flags(bio);
    if (length <= 0) return 0;
    // The socket was empty at this call's last read(2) and no event has been seen since
    // (ctls_reader_forget): a read(2) would only meet EAGAIN. A new segment raises an epoll
    // event in either trigger mode, so waiting for it loses nothing.
    if ((state & reader_drained) != 0) {
        BIO_set_retry_read(bio);
        return -1;
    }
    ssize_t count;
    do {
        count = read((int)(state >> 2), out, (size_t)length);
    } while (count < 0 && errno == EINTR);
    state &= ~(intptr_t)(reader_drained | reader_end);
    if (count < 0) {
        // As the socket BIO: EAGAIN is a retry (SSL_ERROR_WANT_READ), anything else an error with errno kept.
        if (errno == EAGAIN || errno == EWOULDBLOCK) BIO_set_retry_read(bio);
    } else if (count == 0) {
        state |= reader_end;
    } else if (count < length) {
        state |= reader_drained;
    }
    BIO_set_data(bio, (void *)state);
    return (int)count;
}

// BIO_eof and BIO_flush are answered; other controls (kernel TLS, pending, the descriptor) are 0.
static long reader_ctrl(BIO *bio, int cmd, long num, void *ptr) {
    (void)num;
    (void)ptr;
    switch (cmd) {
    case BIO_CTRL_EOF: return ((intptr_t)BIO_get_data(bio) & reader_end) != 0;
    case BIO_CTRL_FLUSH: return 1;
    default: return 0;
    }
}

static BIO_METHOD *reader_method;

static void make_reader_method(void) {
    BIO_METHOD *made = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "socket reader");
    if (made == NULL || BIO_meth_set_read(made, reader_read) != 1 || BIO_meth_set_ctrl(made, reader_ctrl) != 1) {
        BIO_meth_free(made);
        return;
    }
    reader_method = made;
}

int ctls_use_socket_reader(SSL *ssl, int fd) {
    // Made once per process, whichever thread makes the first session (pthread_once(3)).
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, make_reader_method);
    if (reader_method == NULL) return 0;
    BIO *bio = BIO_new(reader_method);
    if (bio == NULL) return 0;
    BIO_set_data(bio, (void *)((intptr_t)fd << 2));
    BIO_set_init(bio, 1);
    // SSL_set0_rbio(3) takes this BIO and drops the session's reference to the socket BIO
    // SSL_set_fd made, which stays as the write BIO.
    SSL_set0_rbio(ssl, bio);
    return 1;
}

void ctls_reader_forget(SSL *ssl) {
    BIO *bio = SSL_get_rbio(ssl);
    if (bio != NULL) BIO_set_data(bio, (void *)((intptr_t)BIO_get_data(bio) & ~(intptr_t)reader_drained));
}

int ctls_reader_drained(const SSL *ssl) {
    BIO *bio = SSL_get_rbio(ssl);
    return bio != NULL && ((intptr_t)BIO_get_data(bio) & reader_drained) != 0;
}

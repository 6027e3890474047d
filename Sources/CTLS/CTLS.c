// CTLS: pass-throughs for OpenSSL macros and the server's two selection callbacks.
#include "CTLS.h"
#include <string.h>

long ctls_ctx_set_server_modes(SSL_CTX *ctx) {
    // RELEASE_BUFFERS: an idle connection gives its 16 KiB+ record buffers back.
    // ENABLE_PARTIAL_WRITE and ACCEPT_MOVING_WRITE_BUFFER: a write may take part of the
    // bytes, and the retry after WANT_WRITE may pass them from another address (SSL_write(3)).
    return SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE
                                 | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
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

const char *ctls_server_name(const SSL *ssl) {
    return SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
}

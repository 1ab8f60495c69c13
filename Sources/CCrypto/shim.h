// CCrypto: the slice of OpenSSL libcrypto that gkpass uses (HMAC-MD5 for GateKeeper, random bytes, later AES).
//
// Policy (style.md "For gkpass" 12): only what Swift cannot call directly goes here, as static inline one-liners
// named gk_<what they wrap>. Everything else (EVP_MAC_update, EVP_MAC_final, RAND_bytes, ...) is called from Swift
// as it is, inside the one class that owns the context.
#ifndef GKPASS_CCRYPTO_SHIM_H
#define GKPASS_CCRYPTO_SHIM_H

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include <stddef.h>

// Why: keying an HMAC in OpenSSL 3 takes an OSSL_PARAM array terminated by OSSL_PARAM_END, whose element type has
// no Swift-friendly initialiser; building the two-element array here keeps pointer juggling out of Swift.
// Returns a keyed HMAC context for `digest` (e.g. "MD5"), or NULL when the provider refuses it (FIPS mode).
// The caller owns the result and frees it with EVP_MAC_CTX_free.
static inline EVP_MAC_CTX *_Nullable gk_hmac_ctx_new(const char *_Nonnull digest,
                                                     const unsigned char *_Nonnull key, size_t keylen) {
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    if (mac == NULL) return NULL;
    EVP_MAC_CTX *ctx = EVP_MAC_CTX_new(mac);
    EVP_MAC_free(mac);  // the context keeps its own reference
    if (ctx == NULL) return NULL;
    OSSL_PARAM params[2] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)digest, 0),
        OSSL_PARAM_construct_end(),
    };
    if (EVP_MAC_init(ctx, key, keylen, params) != 1) {
        EVP_MAC_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

#endif

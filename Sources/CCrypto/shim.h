// CCrypto: the slice of OpenSSL libcrypto that gkpass uses (HMAC-MD5 for GateKeeper, HMAC-SHA256, and the
// Secret Service transport encryption: Diffie-Hellman over BN, AES-128-CBC).
//
// libcrypto is loaded on first use (dlopen), not linked: its 4,000 symbol bindings (it is built with BIND_NOW) and
// relocations cost about 1.2 ms on every start of gkpass, and most runs of the binary other programs start per
// connection (`gkpass ticket` from the file store) never compute anything. Callers run gk_crypto_load() first
// (GateKeeperHMAC, GuestGUID, SecretTransport); Swift calls only the gk_* functions below, each through the table
// gk_crypto_load() fills. The pattern is CCurl's.
//
// Policy (style.md "For gkpass" 12): only what Swift cannot call directly goes here: the loader, one-line
// forwarders, and gk_hmac_ctx_new, whose OSSL_PARAM array has no Swift-friendly initialiser.
#ifndef GKPASS_CCRYPTO_SHIM_H
#define GKPASS_CCRYPTO_SHIM_H

#include <dlfcn.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <pthread.h>
#include <stddef.h>
#include <sys/random.h>  // getrandom(2): the Secret Service key exchange's private exponent

// Every libcrypto function gkpass calls, as (name). The table has one pointer of the function's own type per name.
#define GK_CRYPTO_EACH(X) \
    X(ERR_clear_error) X(EVP_MAC_fetch) X(EVP_MAC_free) X(EVP_MAC_CTX_new) X(EVP_MAC_CTX_free) X(EVP_MAC_CTX_dup) \
    X(EVP_MAC_init) X(EVP_MAC_update) X(EVP_MAC_final) X(OSSL_PARAM_construct_utf8_string) \
    X(OSSL_PARAM_construct_end) X(BN_CTX_new) X(BN_CTX_free) X(BN_new) X(BN_secure_new) X(BN_free) \
    X(BN_clear_free) X(BN_bin2bn) X(BN_bn2binpad) X(BN_set_word) X(BN_sub_word) X(BN_dup) X(BN_cmp) \
    X(BN_value_one) X(BN_set_flags) X(BN_MONT_CTX_new) X(BN_MONT_CTX_set) X(BN_MONT_CTX_free) \
    X(BN_mod_exp_mont_consttime) X(EVP_CIPHER_fetch) X(EVP_CIPHER_free) X(EVP_CIPHER_CTX_new) \
    X(EVP_CIPHER_CTX_free) X(EVP_DecryptInit_ex2) X(EVP_DecryptUpdate) X(EVP_DecryptFinal_ex)

typedef struct {
#define GK_CRYPTO_FIELD(name) __typeof__(name) *name;
    GK_CRYPTO_EACH(GK_CRYPTO_FIELD)
#undef GK_CRYPTO_FIELD
} gk_crypto_api;

typedef struct {
    gk_crypto_api api;
    const char *error;
    pthread_once_t once;
} gk_crypto_state;

/// The table (function-local: Swift's Clang importer emits no definitions for file-scope statics in a header).
/// Swift emits a header's static inline functions into each file that calls them, so there may be one table per
/// Swift file: call the loader in the file that calls the forwarders.
static inline gk_crypto_state *_Nonnull gk_crypto_state_get(void) {
    static gk_crypto_state state = {.error = "libcrypto was not loaded", .once = PTHREAD_ONCE_INIT};
    return &state;
}
#define gk_crypto (gk_crypto_state_get()->api)

static inline void gk_crypto_load_once(void) {
    gk_crypto_state *state = gk_crypto_state_get();
    void *library = dlopen("libcrypto.so.3", RTLD_NOW | RTLD_LOCAL);
    if (!library) { state->error = dlerror(); return; }
#define GK_CRYPTO_SYMBOL(name) \
    *(void **)(&gk_crypto.name) = dlsym(library, #name); \
    if (!gk_crypto.name) { state->error = "libcrypto.so.3 lacks " #name; return; }
    GK_CRYPTO_EACH(GK_CRYPTO_SYMBOL)
#undef GK_CRYPTO_SYMBOL
    state->error = NULL;
}

/// Loads libcrypto once (thread-safe). NULL on success, else why it could not be loaded.
static inline const char *_Nullable gk_crypto_load(void) {
    gk_crypto_state *state = gk_crypto_state_get();
    pthread_once(&state->once, gk_crypto_load_once);
    return state->error;
}

// Everything below requires a successful gk_crypto_load().

static inline void gk_err_clear_error(void) { gk_crypto.ERR_clear_error(); }
static inline void gk_evp_mac_ctx_free(EVP_MAC_CTX *_Nullable c) { gk_crypto.EVP_MAC_CTX_free(c); }
static inline EVP_MAC_CTX *_Nullable gk_evp_mac_ctx_dup(const EVP_MAC_CTX *_Nonnull c) { return gk_crypto.EVP_MAC_CTX_dup(c); }
static inline int gk_evp_mac_update(EVP_MAC_CTX *_Nonnull c, const unsigned char *_Nullable data, size_t n) {
    return gk_crypto.EVP_MAC_update(c, data, n);
}
static inline int gk_evp_mac_final(EVP_MAC_CTX *_Nonnull c, unsigned char *_Nullable out, size_t *_Nonnull outl, size_t size) {
    return gk_crypto.EVP_MAC_final(c, out, outl, size);
}
static inline BN_CTX *_Nullable gk_bn_ctx_new(void) { return gk_crypto.BN_CTX_new(); }
static inline void gk_bn_ctx_free(BN_CTX *_Nullable c) { gk_crypto.BN_CTX_free(c); }
static inline BIGNUM *_Nullable gk_bn_new(void) { return gk_crypto.BN_new(); }
static inline BIGNUM *_Nullable gk_bn_secure_new(void) { return gk_crypto.BN_secure_new(); }
static inline void gk_bn_free(BIGNUM *_Nullable a) { gk_crypto.BN_free(a); }
static inline void gk_bn_clear_free(BIGNUM *_Nullable a) { gk_crypto.BN_clear_free(a); }
static inline BIGNUM *_Nullable gk_bn_bin2bn(const unsigned char *_Nonnull s, int len, BIGNUM *_Nullable ret) {
    return gk_crypto.BN_bin2bn(s, len, ret);
}
static inline int gk_bn_bn2binpad(const BIGNUM *_Nonnull a, unsigned char *_Nonnull to, int tolen) {
    return gk_crypto.BN_bn2binpad(a, to, tolen);
}
static inline int gk_bn_set_word(BIGNUM *_Nonnull a, BN_ULONG w) { return gk_crypto.BN_set_word(a, w); }
static inline int gk_bn_sub_word(BIGNUM *_Nonnull a, BN_ULONG w) { return gk_crypto.BN_sub_word(a, w); }
static inline BIGNUM *_Nullable gk_bn_dup(const BIGNUM *_Nonnull a) { return gk_crypto.BN_dup(a); }
static inline int gk_bn_cmp(const BIGNUM *_Nonnull a, const BIGNUM *_Nonnull b) { return gk_crypto.BN_cmp(a, b); }
static inline const BIGNUM *_Nonnull gk_bn_value_one(void) { return gk_crypto.BN_value_one(); }
/// BN_FLG_CONSTTIME on `a`: exponentiations with it as exponent take constant time.
static inline void gk_bn_set_consttime(BIGNUM *_Nonnull a) { gk_crypto.BN_set_flags(a, BN_FLG_CONSTTIME); }
static inline BN_MONT_CTX *_Nullable gk_bn_mont_ctx_new(void) { return gk_crypto.BN_MONT_CTX_new(); }
static inline int gk_bn_mont_ctx_set(BN_MONT_CTX *_Nonnull m, const BIGNUM *_Nonnull mod, BN_CTX *_Nonnull c) {
    return gk_crypto.BN_MONT_CTX_set(m, mod, c);
}
static inline void gk_bn_mont_ctx_free(BN_MONT_CTX *_Nullable m) { gk_crypto.BN_MONT_CTX_free(m); }
static inline int gk_bn_mod_exp_mont_consttime(BIGNUM *_Nonnull r, const BIGNUM *_Nonnull a, const BIGNUM *_Nonnull p,
                                               const BIGNUM *_Nonnull m, BN_CTX *_Nonnull c, BN_MONT_CTX *_Nullable mont) {
    return gk_crypto.BN_mod_exp_mont_consttime(r, a, p, m, c, mont);
}
static inline EVP_CIPHER *_Nullable gk_evp_cipher_fetch(const char *_Nonnull name) { return gk_crypto.EVP_CIPHER_fetch(NULL, name, NULL); }
static inline void gk_evp_cipher_free(EVP_CIPHER *_Nullable c) { gk_crypto.EVP_CIPHER_free(c); }
static inline EVP_CIPHER_CTX *_Nullable gk_evp_cipher_ctx_new(void) { return gk_crypto.EVP_CIPHER_CTX_new(); }
static inline void gk_evp_cipher_ctx_free(EVP_CIPHER_CTX *_Nullable c) { gk_crypto.EVP_CIPHER_CTX_free(c); }
static inline int gk_evp_decrypt_init(EVP_CIPHER_CTX *_Nonnull c, const EVP_CIPHER *_Nonnull cipher,
                                      const unsigned char *_Nonnull key, const unsigned char *_Nonnull iv) {
    return gk_crypto.EVP_DecryptInit_ex2(c, cipher, key, iv, NULL);
}
static inline int gk_evp_decrypt_update(EVP_CIPHER_CTX *_Nonnull c, unsigned char *_Nonnull out, int *_Nonnull outl,
                                        const unsigned char *_Nonnull in, int inl) {
    return gk_crypto.EVP_DecryptUpdate(c, out, outl, in, inl);
}
static inline int gk_evp_decrypt_final(EVP_CIPHER_CTX *_Nonnull c, unsigned char *_Nonnull out, int *_Nonnull outl) {
    return gk_crypto.EVP_DecryptFinal_ex(c, out, outl);
}

// Why: keying an HMAC in OpenSSL 3 takes an OSSL_PARAM array terminated by OSSL_PARAM_END, whose element type has
// no Swift-friendly initialiser; building the two-element array here keeps pointer juggling out of Swift.
// Returns a keyed HMAC context for `digest` (e.g. "MD5"), or NULL when the provider refuses it (FIPS mode).
// The caller owns the result and frees it with gk_evp_mac_ctx_free. Requires gk_crypto_load().
static inline EVP_MAC_CTX *_Nullable gk_hmac_ctx_new(const char *_Nonnull digest,
                                                     const unsigned char *_Nonnull key, size_t keylen) {
    EVP_MAC *mac = gk_crypto.EVP_MAC_fetch(NULL, "HMAC", NULL);
    if (mac == NULL) return NULL;
    EVP_MAC_CTX *ctx = gk_crypto.EVP_MAC_CTX_new(mac);
    gk_crypto.EVP_MAC_free(mac);  // the context keeps its own reference
    if (ctx == NULL) return NULL;
    OSSL_PARAM params[2] = {
        gk_crypto.OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)digest, 0),
        gk_crypto.OSSL_PARAM_construct_end(),
    };
    if (gk_crypto.EVP_MAC_init(ctx, key, keylen, params) != 1) {
        gk_crypto.EVP_MAC_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

#endif

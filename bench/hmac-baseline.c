/* In-process C anchor for the GateKeeper answer: HMAC-MD5 over challenge || "127.0.0.1", two ways with OpenSSL 3.
 * Prints markdown rows like gatekeeper-bench. Built and run only by scripts/bench. */
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static void row(const char *name, int n, double best) {
    double rate = n / best;
    printf("| %s | %.1f M ops/s | %.1f ns |\n", name, rate / 1e6, best / n * 1e9);
}

int main(void) {
    const unsigned char key[] = "SRFMKSJANDRESKKC";
    unsigned char msg[17] = {0x00, 0x20, 0x2C, 0x5C, 0x0A, 0x0D, 0x09, 0x41, '1', '2', '7', '.', '0', '.', '0', '.', '1'};
    unsigned char out[64];
    const int n = 2000000;
    double best = 1e9;
    for (int run = 0; run < 5; run++) {
        double t = now();
        for (int i = 0; i < n; i++) {
            unsigned int len;
            msg[0] = (unsigned char)i;
            HMAC(EVP_md5(), key, 16, msg, sizeof msg, out, &len);
        }
        if (now() - t < best) best = now() - t;
    }
    row("C: OpenSSL one-shot HMAC()", n, best);

    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    EVP_MAC_CTX *keyed = EVP_MAC_CTX_new(mac);
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, "MD5", 0), OSSL_PARAM_construct_end()};
    EVP_MAC_init(keyed, key, 16, params);
    best = 1e9;
    for (int run = 0; run < 5; run++) {
        double t = now();
        for (int i = 0; i < n; i++) {
            size_t len;
            msg[0] = (unsigned char)i;
            EVP_MAC_CTX *c = EVP_MAC_CTX_dup(keyed);
            EVP_MAC_update(c, msg, 8);
            EVP_MAC_update(c, msg + 8, 9);
            EVP_MAC_final(c, out, &len, sizeof out);
            EVP_MAC_CTX_free(c);
        }
        if (now() - t < best) best = now() - t;
    }
    row("C: keyed EVP_MAC_CTX, dup per answer (gkpass's method before swift-crypto)", n, best);
    return 0;
}

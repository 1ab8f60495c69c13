#define _GNU_SOURCE
/* The C-speed baseline for `gkpass gatekeeper respond`: read one escaped seq-2 line from stdin, unescape, HMAC-MD5
 * with OpenSSL's one-shot HMAC(), write the escaped v3 answer with the zero GUID. No validation beyond the minimum:
 * it is a floor for process cost, not a tool. Built and run only by scripts/bench. */
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static size_t unescape(const unsigned char *in, size_t n, unsigned char *out) {
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (in[i] == '\\' && i + 1 < n) {
            const char *from = "0tnrbc\\", *to = "\0\t\n\r ,\\";
            const char *p = memchr(from, in[i + 1], 7);
            if (p) { out[o++] = (unsigned char)to[p - from]; i++; continue; }
        }
        out[o++] = in[i];
    }
    return o;
}

static size_t escape(const unsigned char *in, size_t n, unsigned char *out) {
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        const char *from = "\0\t\n\r ,\\", *to = "0tnrbc\\";
        const char *p = memchr(from, in[i], 7);
        if (p) { out[o++] = '\\'; out[o++] = (unsigned char)to[p - from]; } else out[o++] = in[i];
    }
    return o;
}

int main(int argc, char **argv) {
    const char *host = argc > 1 ? argv[1] : "127.0.0.1";
    unsigned char line[2048], tok[64], msg[64], out[256];
    ssize_t n = read(0, line, sizeof line);
    if (n <= 0) return 1;
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r')) n--;
    unsigned char *colon = memmem(line, (size_t)n, " :", 2);
    if (!colon) return 1;
    size_t t = unescape(colon + 2, (size_t)(line + n - colon - 2), tok);
    if (t != 24) return 1;
    memcpy(msg, tok + 16, 8);
    size_t hl = strlen(host) > 15 ? 15 : strlen(host);
    memcpy(msg + 8, host, hl);
    unsigned char answer[48];
    memcpy(answer, tok, 16);
    answer[12] = 3;
    unsigned int len = 0;
    HMAC(EVP_md5(), "SRFMKSJANDRESKKC", 16, msg, 8 + hl, answer + 16, &len);
    memset(answer + 32, 0, 16);
    size_t o = (size_t)sprintf((char *)out, "AUTH GateKeeper S :");
    o += escape(answer, 48, out + o);
    out[o++] = '\r';
    out[o++] = '\n';
    return write(1, out, o) == (ssize_t)o ? 0 : 1;
}

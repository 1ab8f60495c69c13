// libcurl, loaded once on first use (see include/gkpass_loader.h for why, and for the contract of each function).
#define _GNU_SOURCE  // dlvsym
// curl.h turns curl_easy_setopt/getinfo into type-checking macros under GCC and Clang; the table calls the functions.
#define CURL_DISABLE_TYPECHECK 1
#include "gkpass_loader.h"
#include "loader.h"

#include <pthread.h>

GK_ELF_NOTE_DLOPEN(gk_curl_note,
    "[{\"feature\":\"login\",\"description\":\"HTTPS Passport sign-in (gkpass login, refresh, doctor)\","
    "\"priority\":\"required\",\"soname\":[\"libcurl.so.4\"]}]");

#define GK_CURL_SONAME "libcurl.so.4"
#define GK_CURL_PACKAGE "libcurl4"
/// Debian's (and Ubuntu's) libcurl versions its symbols under this node; others build it unversioned.
#define GK_CURL_VERSION_NODE "CURL_OPENSSL_4"
/// 7.85.0: CURLOPT_PROTOCOLS_STR, which every handle sets (the URL API, curl_url_*, needs only 7.62).
#define GK_CURL_MINIMUM 0x075500

/// Every libcurl function gkpass calls, resolved at load.
#define GK_CURL_EACH(X)                                                                                            \
    X(curl_easy_init) X(curl_easy_cleanup) X(curl_easy_perform) X(curl_easy_setopt) X(curl_easy_getinfo)             \
    X(curl_easy_strerror) X(curl_slist_append) X(curl_slist_free_all) X(curl_version_info) X(curl_global_init)     \
    X(curl_url) X(curl_url_cleanup) X(curl_url_set) X(curl_url_get) X(curl_free)

static struct {
#define GK_FIELD(name) __typeof__(name) *name;
    GK_CURL_EACH(GK_FIELD)
#undef GK_FIELD
} table;

static const char *failure = "libcurl was not loaded";
static char failure_text[512];
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void load_once(void) {
    // LOCAL: nothing else needs libcurl's symbols, and its dependencies stay out of the global scope.
    void *library = dlopen(GK_CURL_SONAME, RTLD_NOW | RTLD_LOCAL);
    if (!library) {
        snprintf(failure_text, sizeof failure_text, "cannot load " GK_CURL_SONAME " from the package "
                 GK_CURL_PACKAGE " (%s)", dlerror());
        failure = failure_text;
        return;
    }
#define GK_RESOLVE(name)                                                                                           \
    *(void **)&table.name = gk_loader_symbol(library, #name, GK_CURL_VERSION_NODE);                                 \
    if (!table.name) {                                                                                             \
        failure = GK_CURL_SONAME " (package " GK_CURL_PACKAGE ") has no " #name "; gkpass needs libcurl 7.85 or later"; \
        return;                                                                                                    \
    }
    GK_CURL_EACH(GK_RESOLVE)
#undef GK_RESOLVE
    const curl_version_info_data *info = (table.curl_version_info)(CURLVERSION_NOW);
    if (!info || info->version_num < GK_CURL_MINIMUM) {
        snprintf(failure_text, sizeof failure_text, GK_CURL_SONAME " (package " GK_CURL_PACKAGE ") is libcurl %s; "
                 "gkpass needs 7.85 or later", info && info->version ? info->version : "(unknown)");
        failure = failure_text;
        return;
    }
    // Before any thread uses libcurl (refresh --all signs in on several threads).
    if ((table.curl_global_init)(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        failure = "curl_global_init failed (out of memory?)";
        return;
    }
    failure = NULL;
}

const char *gk_curl_load(void) {
    pthread_once(&once, load_once);
    return failure;
}

// MARK: - Forwarders (each requires a successful gk_curl_load())

CURL *gk_curl_easy_init(void) { return (table.curl_easy_init)(); }
void gk_curl_easy_cleanup(CURL *curl) { (table.curl_easy_cleanup)(curl); }
CURLcode gk_curl_easy_perform(CURL *curl) { return (table.curl_easy_perform)(curl); }
const char *gk_curl_easy_strerror(CURLcode code) { return (table.curl_easy_strerror)(code); }
struct curl_slist *gk_curl_slist_append(struct curl_slist *list, const char *text) {
    return (table.curl_slist_append)(list, text);
}
void gk_curl_slist_free_all(struct curl_slist *list) { (table.curl_slist_free_all)(list); }

CURLcode gk_curl_easy_setopt_long(CURL *curl, CURLoption option, long value) {
    return (table.curl_easy_setopt)(curl, option, value);
}
CURLcode gk_curl_easy_setopt_string(CURL *curl, CURLoption option, const char *value) {
    return (table.curl_easy_setopt)(curl, option, value);
}
CURLcode gk_curl_easy_setopt_pointer(CURL *curl, CURLoption option, void *value) {
    return (table.curl_easy_setopt)(curl, option, value);
}
CURLcode gk_curl_easy_setopt_slist(CURL *curl, CURLoption option, struct curl_slist *value) {
    return (table.curl_easy_setopt)(curl, option, value);
}
CURLcode gk_curl_easy_setopt_data_callback(CURL *curl, CURLoption option, gk_curl_data_callback callback) {
    return (table.curl_easy_setopt)(curl, option, callback);
}

CURLcode gk_curl_easy_getinfo_long(CURL *curl, CURLINFO info, long *value) {
    return (table.curl_easy_getinfo)(curl, info, value);
}
CURLcode gk_curl_easy_getinfo_double(CURL *curl, CURLINFO info, double *value) {
    return (table.curl_easy_getinfo)(curl, info, value);
}
CURLcode gk_curl_easy_getinfo_string(CURL *curl, CURLINFO info, char **value) {
    return (table.curl_easy_getinfo)(curl, info, value);
}
CURLcode gk_curl_easy_getinfo_certinfo(CURL *curl, struct curl_certinfo **value) {
    return (table.curl_easy_getinfo)(curl, CURLINFO_CERTINFO, value);
}

curl_version_info_data *gk_curl_version_info(void) { return (table.curl_version_info)(CURLVERSION_NOW); }

CURLU *gk_curl_url(void) { return (table.curl_url)(); }
void gk_curl_url_cleanup(CURLU *url) { (table.curl_url_cleanup)(url); }
CURLUcode gk_curl_url_set(CURLU *url, CURLUPart part, const char *content, unsigned int flags) {
    return (table.curl_url_set)(url, part, content, flags);
}
CURLUcode gk_curl_url_get(CURLU *url, CURLUPart part, char **content, unsigned int flags) {
    return (table.curl_url_get)(url, part, content, flags);
}
void gk_curl_free(void *pointer) { (table.curl_free)(pointer); }

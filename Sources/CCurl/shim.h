// CCurl: libcurl (the OpenSSL flavour, libcurl4-openssl-dev) for the Passport HTTPS flows.
//
// libcurl is loaded on first use (dlopen), not linked: it pulls in some twenty libraries (GnuTLS, Kerberos, LDAP,
// SSH, RTMP, ...) whose loading cost about 4 ms on every start of gkpass, the binary other programs run per
// connection (`gkpass ticket`), where no HTTPS request is ever made. Only `login`, `refresh` and `doctor` load it.
//
// Policy, after swift-corelibs-foundation's CFURLSessionInterface.h: curl_easy_setopt and curl_easy_getinfo are
// variadic, which Swift cannot call, so each is split into one typed wrapper per argument kind. Swift calls only
// the gk_curl_* functions below; each goes through the table gk_curl_load() fills.
#ifndef GKPASS_CCURL_SHIM_H
#define GKPASS_CCURL_SHIM_H

#include <curl/curl.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stddef.h>

typedef struct {
    CURL *(*easy_init)(void);
    void (*easy_cleanup)(CURL *);
    CURLcode (*easy_perform)(CURL *);
    CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
    CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
    const char *(*easy_strerror)(CURLcode);
    struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
    void (*slist_free_all)(struct curl_slist *);
    curl_version_info_data *(*version_info)(CURLversion);
    CURLcode (*global_init)(long);
    CURLU *(*url)(void);
    void (*url_cleanup)(CURLU *);
    CURLUcode (*url_set)(CURLU *, CURLUPart, const char *, unsigned int);
    CURLUcode (*url_get)(CURLU *, CURLUPart, char **, unsigned int);
    void (*free)(void *);
} gk_curl_api;

typedef struct {
    gk_curl_api api;
    const char *error;
    pthread_once_t once;
} gk_curl_state;

/// The one table per module that includes this header (function-local: Swift's Clang importer emits no
/// definitions for file-scope statics in a header).
static inline gk_curl_state *_Nonnull gk_curl_state_get(void) {
    static gk_curl_state state = {.error = "libcurl was not loaded", .once = PTHREAD_ONCE_INIT};
    return &state;
}
#define gk_curl_table (gk_curl_state_get()->api)

static inline void gk_curl_load_once(void) {
    gk_curl_state *state = gk_curl_state_get();
    void *library = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
    if (!library) { state->error = dlerror(); return; }
#define GK_CURL_SYMBOL(field, name) \
    *(void **)(&gk_curl_table.field) = dlsym(library, name); \
    if (!gk_curl_table.field) { state->error = "libcurl.so.4 lacks " name; return; }
    GK_CURL_SYMBOL(easy_init, "curl_easy_init")
    GK_CURL_SYMBOL(easy_cleanup, "curl_easy_cleanup")
    GK_CURL_SYMBOL(easy_perform, "curl_easy_perform")
    GK_CURL_SYMBOL(easy_setopt, "curl_easy_setopt")
    GK_CURL_SYMBOL(easy_getinfo, "curl_easy_getinfo")
    GK_CURL_SYMBOL(easy_strerror, "curl_easy_strerror")
    GK_CURL_SYMBOL(slist_append, "curl_slist_append")
    GK_CURL_SYMBOL(slist_free_all, "curl_slist_free_all")
    GK_CURL_SYMBOL(version_info, "curl_version_info")
    GK_CURL_SYMBOL(global_init, "curl_global_init")
    GK_CURL_SYMBOL(url, "curl_url")
    GK_CURL_SYMBOL(url_cleanup, "curl_url_cleanup")
    GK_CURL_SYMBOL(url_set, "curl_url_set")
    GK_CURL_SYMBOL(url_get, "curl_url_get")
    GK_CURL_SYMBOL(free, "curl_free")
#undef GK_CURL_SYMBOL
    // curl_global_init before any thread uses libcurl (refresh --all signs in on several threads).
    if (gk_curl_table.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) { state->error = "curl_global_init failed"; return; }
    state->error = NULL;
}

/// Loads libcurl once (thread-safe). NULL on success, else why it could not be loaded.
static inline const char *_Nullable gk_curl_load(void) {
    gk_curl_state *state = gk_curl_state_get();
    pthread_once(&state->once, gk_curl_load_once);
    return state->error;
}

// Everything below requires a successful gk_curl_load().

static inline CURL *_Nullable gk_curl_easy_init(void) { return gk_curl_table.easy_init(); }
static inline void gk_curl_easy_cleanup(CURL *_Nonnull curl) { gk_curl_table.easy_cleanup(curl); }
static inline CURLcode gk_curl_easy_perform(CURL *_Nonnull curl) { return gk_curl_table.easy_perform(curl); }
static inline const char *_Nonnull gk_curl_easy_strerror(CURLcode code) { return gk_curl_table.easy_strerror(code); }
static inline struct curl_slist *_Nullable gk_curl_slist_append(struct curl_slist *_Nullable list, const char *_Nonnull text) {
    return gk_curl_table.slist_append(list, text);
}
static inline void gk_curl_slist_free_all(struct curl_slist *_Nullable list) { gk_curl_table.slist_free_all(list); }

static inline CURLcode gk_curl_easy_setopt_long(CURL *_Nonnull curl, CURLoption option, long value) {
    return gk_curl_table.easy_setopt(curl, option, value);
}

static inline CURLcode gk_curl_easy_setopt_string(CURL *_Nonnull curl, CURLoption option,
                                                  const char *_Nullable value) {
    return gk_curl_table.easy_setopt(curl, option, value);
}

static inline CURLcode gk_curl_easy_setopt_pointer(CURL *_Nonnull curl, CURLoption option, void *_Nullable value) {
    return gk_curl_table.easy_setopt(curl, option, value);
}

static inline CURLcode gk_curl_easy_setopt_slist(CURL *_Nonnull curl, CURLoption option,
                                                 struct curl_slist *_Nullable value) {
    return gk_curl_table.easy_setopt(curl, option, value);
}

/// libcurl's write and header callbacks.
typedef size_t (*gk_curl_data_callback)(char *_Nonnull data, size_t size, size_t count, void *_Nullable userdata);

static inline CURLcode gk_curl_easy_setopt_data_callback(CURL *_Nonnull curl, CURLoption option,
                                                         gk_curl_data_callback _Nullable callback) {
    return gk_curl_table.easy_setopt(curl, option, callback);
}

static inline CURLcode gk_curl_easy_getinfo_long(CURL *_Nonnull curl, CURLINFO info, long *_Nonnull value) {
    return gk_curl_table.easy_getinfo(curl, info, value);
}

static inline CURLcode gk_curl_easy_getinfo_double(CURL *_Nonnull curl, CURLINFO info, double *_Nonnull value) {
    return gk_curl_table.easy_getinfo(curl, info, value);
}

static inline CURLcode gk_curl_easy_getinfo_string(CURL *_Nonnull curl, CURLINFO info,
                                                   char *_Nullable *_Nonnull value) {
    return gk_curl_table.easy_getinfo(curl, info, value);
}

static inline CURLcode gk_curl_easy_getinfo_certinfo(CURL *_Nonnull curl,
                                                     struct curl_certinfo *_Nullable *_Nonnull value) {
    return gk_curl_table.easy_getinfo(curl, CURLINFO_CERTINFO, value);
}

/// Why: CURLVERSION_NOW is a macro naming the newest struct layout this header knows, which Swift does not import.
static inline curl_version_info_data *_Nonnull gk_curl_version_info(void) {
    return gk_curl_table.version_info(CURLVERSION_NOW);
}

// The URL API (CURLU, libcurl 7.62): RFC 3986 resolution of a redirect's Location against the URL it came from,
// by the same parser that will fetch it. Not variadic; wrapped only to go through the table like the rest.

static inline CURLU *_Nullable gk_curl_url(void) { return gk_curl_table.url(); }
static inline void gk_curl_url_cleanup(CURLU *_Nonnull url) { gk_curl_table.url_cleanup(url); }
static inline CURLUcode gk_curl_url_set(CURLU *_Nonnull url, CURLUPart part, const char *_Nonnull content,
                                        unsigned int flags) {
    return gk_curl_table.url_set(url, part, content, flags);
}
/// On success `*content` is a string libcurl allocated: give it back with gk_curl_free.
static inline CURLUcode gk_curl_url_get(CURLU *_Nonnull url, CURLUPart part, char *_Nullable *_Nonnull content,
                                        unsigned int flags) {
    return gk_curl_table.url_get(url, part, content, flags);
}
static inline void gk_curl_free(void *_Nullable pointer) { gk_curl_table.free(pointer); }

#endif

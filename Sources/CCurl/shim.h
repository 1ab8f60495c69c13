// CCurl: libcurl (the OpenSSL flavour, libcurl4-openssl-dev) for the Passport HTTPS flows.
//
// Policy, after swift-corelibs-foundation's CFURLSessionInterface.h: curl_easy_setopt and curl_easy_getinfo are
// variadic, which Swift cannot call, so each is split here into one typed wrapper per argument kind. Every other
// curl_* function is called from Swift directly by the one class that owns the CURL handle.
#ifndef GKPASS_CCURL_SHIM_H
#define GKPASS_CCURL_SHIM_H

#include <curl/curl.h>

static inline CURLcode gk_curl_easy_setopt_long(CURL *_Nonnull curl, CURLoption option, long value) {
    return curl_easy_setopt(curl, option, value);
}

static inline CURLcode gk_curl_easy_setopt_string(CURL *_Nonnull curl, CURLoption option,
                                                  const char *_Nullable value) {
    return curl_easy_setopt(curl, option, value);
}

static inline CURLcode gk_curl_easy_setopt_pointer(CURL *_Nonnull curl, CURLoption option, void *_Nullable value) {
    return curl_easy_setopt(curl, option, value);
}

static inline CURLcode gk_curl_easy_setopt_slist(CURL *_Nonnull curl, CURLoption option,
                                                 struct curl_slist *_Nullable value) {
    return curl_easy_setopt(curl, option, value);
}

/// The signature libcurl expects for CURLOPT_WRITEFUNCTION and CURLOPT_HEADERFUNCTION.
typedef size_t (*gk_curl_data_callback)(char *_Nonnull data, size_t size, size_t count, void *_Nullable userdata);

static inline CURLcode gk_curl_easy_setopt_data_callback(CURL *_Nonnull curl, CURLoption option,
                                                         gk_curl_data_callback _Nullable callback) {
    return curl_easy_setopt(curl, option, callback);
}

static inline CURLcode gk_curl_easy_getinfo_long(CURL *_Nonnull curl, CURLINFO info, long *_Nonnull value) {
    return curl_easy_getinfo(curl, info, value);
}

static inline CURLcode gk_curl_easy_getinfo_double(CURL *_Nonnull curl, CURLINFO info, double *_Nonnull value) {
    return curl_easy_getinfo(curl, info, value);
}

static inline CURLcode gk_curl_easy_getinfo_string(CURL *_Nonnull curl, CURLINFO info,
                                                   const char *_Nullable *_Nonnull value) {
    return curl_easy_getinfo(curl, info, value);
}

/// Why: CURLVERSION_NOW is a macro naming the newest struct layout this header knows, which Swift does not import.
static inline curl_version_info_data *_Nonnull gk_curl_version_info(void) {
    return curl_version_info(CURLVERSION_NOW);
}

#endif

// CLoader: the one place gkpass loads its optional C libraries, libcurl and libsecret (with GLib under it).
//
// Neither is linked: each is dlopen()ed on first use, once per process (pthread_once), and every symbol gkpass calls
// is resolved at that moment, so a missing library or an old one that lacks a symbol fails in one place, with a
// message that names the library, the symbol and the Debian package, instead of crashing at the first call. The
// pattern is systemd's (src/shared/dlfcn-util.c: dlopen_many_sym_or_warn, DLSYM_ARG). Each library has one table of
// function pointers, in its .c file, shared by every caller (the former header-only `static inline` shims gave each
// Swift file its own table, so a forwarder called from a file that had not run the loader called NULL). The .c files
// also carry an ELF `.note.dlopen` entry per library (https://systemd.io/ELF_DLOPEN_METADATA/), so packaging tools
// see the dependency that the dynamic section does not show.
//
// Why load lazily: libcurl pulls in some twenty libraries (GnuTLS, Kerberos, LDAP, SSH, ...) and libsecret fifteen
// (GLib, GIO, GObject, libgcrypt, ...); loading them cost about 4 ms and 1 ms on every start of gkpass, the binary
// other programs run per connection (`gkpass ticket`), which from the file store needs neither (docs/benchmarks.md).
//
// Policy for the forwarders, after swift-corelibs-foundation's CFURLSessionInterface.h: Swift calls only gk_* names;
// each maps one-to-one to the C function behind the same name, except where Swift cannot call the C one (variadic
// curl_easy_setopt/getinfo, split by argument type; CURLVERSION_NOW, a macro; the SecretSchema, a C array).
// Every forwarder requires a successful gk_curl_load() / gk_secret_load() first.
#ifndef GKPASS_LOADER_H
#define GKPASS_LOADER_H

#include <curl/curl.h>
#include <stddef.h>

// The D-Bus path calls (secret-paths.h: search for item paths, get one item's secret) are marked unstable in the
// header but have been exported unchanged since libsecret 0.6; they let a read skip building an item proxy.
#define SECRET_API_SUBJECT_TO_CHANGE 1
#include <libsecret/secret.h>

// MARK: - libcurl (libcurl.so.4, Debian package libcurl4; the OpenSSL flavour, headers from libcurl4-openssl-dev)

/// Loads libcurl once (thread-safe) and resolves every function below; also runs curl_global_init, before any thread
/// uses libcurl. NULL on success, else one line that names what is missing and the package to install.
const char *_Nullable gk_curl_load(void);

CURL *_Nullable gk_curl_easy_init(void);
void gk_curl_easy_cleanup(CURL *_Nonnull curl);
CURLcode gk_curl_easy_perform(CURL *_Nonnull curl);
const char *_Nonnull gk_curl_easy_strerror(CURLcode code);
struct curl_slist *_Nullable gk_curl_slist_append(struct curl_slist *_Nullable list, const char *_Nonnull text);
void gk_curl_slist_free_all(struct curl_slist *_Nullable list);

CURLcode gk_curl_easy_setopt_long(CURL *_Nonnull curl, CURLoption option, long value);
CURLcode gk_curl_easy_setopt_string(CURL *_Nonnull curl, CURLoption option, const char *_Nullable value);
CURLcode gk_curl_easy_setopt_pointer(CURL *_Nonnull curl, CURLoption option, void *_Nullable value);
CURLcode gk_curl_easy_setopt_slist(CURL *_Nonnull curl, CURLoption option, struct curl_slist *_Nullable value);

/// libcurl's write and header callbacks.
typedef size_t (*gk_curl_data_callback)(char *_Nonnull data, size_t size, size_t count, void *_Nullable userdata);
CURLcode gk_curl_easy_setopt_data_callback(CURL *_Nonnull curl, CURLoption option,
                                           gk_curl_data_callback _Nullable callback);

CURLcode gk_curl_easy_getinfo_long(CURL *_Nonnull curl, CURLINFO info, long *_Nonnull value);
CURLcode gk_curl_easy_getinfo_double(CURL *_Nonnull curl, CURLINFO info, double *_Nonnull value);
CURLcode gk_curl_easy_getinfo_string(CURL *_Nonnull curl, CURLINFO info, char *_Nullable *_Nonnull value);
CURLcode gk_curl_easy_getinfo_certinfo(CURL *_Nonnull curl, struct curl_certinfo *_Nullable *_Nonnull value);

/// Why: CURLVERSION_NOW is a macro naming the newest struct layout this header knows, which Swift does not import.
curl_version_info_data *_Nonnull gk_curl_version_info(void);

// The URL API (CURLU, libcurl 7.62): RFC 3986 resolution of a redirect's Location against the URL it came from, by
// the same parser that will fetch it.
CURLU *_Nullable gk_curl_url(void);
void gk_curl_url_cleanup(CURLU *_Nonnull url);
CURLUcode gk_curl_url_set(CURLU *_Nonnull url, CURLUPart part, const char *_Nonnull content, unsigned int flags);
/// On success `*content` is a string libcurl allocated: give it back with gk_curl_free.
CURLUcode gk_curl_url_get(CURLU *_Nonnull url, CURLUPart part, char *_Nullable *_Nonnull content, unsigned int flags);
void gk_curl_free(void *_Nullable pointer);

// MARK: - libsecret and GLib (libsecret-1.so.0, Debian packages libsecret-1-0 and libglib2.0-0)

/// Loads libsecret (and through it GLib, GObject and GIO) once (thread-safe) and resolves every function below.
/// NULL on success, else one line that names what is missing and the package to install.
const char *_Nullable gk_secret_load(void);

void gk_g_object_unref(gpointer _Nonnull object);
gpointer _Nonnull gk_g_object_ref(gpointer _Nonnull object);
/// A GHashTable of strings to strings that owns (and g_free()s) its keys and values.
GHashTable *_Nonnull gk_string_table_new(void);
/// Inserts copies of `key` and `value`.
void gk_string_table_insert(GHashTable *_Nonnull table, const char *_Nonnull key, const char *_Nonnull value);
gpointer _Nullable gk_g_hash_table_lookup(GHashTable *_Nonnull table, gconstpointer _Nullable key);
guint gk_g_hash_table_size(GHashTable *_Nonnull table);
void gk_g_hash_table_unref(GHashTable *_Nonnull table);
void gk_g_strfreev(gchar *_Nullable *_Nullable list);
void gk_g_error_free(GError *_Nonnull error);
GQuark gk_g_io_error_quark(void);
GQuark gk_g_dbus_error_quark(void);
/// The D-Bus error name of an error GDBus could not map to a GError domain (G_IO_ERROR_DBUS_ERROR); g_free() it.
gchar *_Nullable gk_g_dbus_error_get_remote_error(const GError *_Nonnull error);
void gk_g_free(gpointer _Nullable pointer);
GQuark gk_secret_error_get_quark(void);
/// Frees a list of GObjects and drops the reference each element held.
void gk_list_free_objects(GList *_Nullable list);
void gk_g_list_free(GList *_Nullable list);
GList *_Nonnull gk_g_list_append(GList *_Nullable list, gpointer _Nullable data);
GCancellable *_Nonnull gk_g_cancellable_new(void);
void gk_g_cancellable_cancel(GCancellable *_Nullable cancellable);
gboolean gk_g_cancellable_is_cancelled(GCancellable *_Nullable cancellable);

SecretService *_Nullable gk_secret_service_get_sync(SecretServiceFlags flags, GCancellable *_Nullable cancellable,
                                                    GError *_Nullable *_Nullable error);
GList *_Nullable gk_secret_service_search_sync(SecretService *_Nonnull service, const SecretSchema *_Nullable schema,
                                               GHashTable *_Nonnull attributes, SecretSearchFlags flags,
                                               GCancellable *_Nullable cancellable, GError *_Nullable *_Nullable error);
gboolean gk_secret_service_search_for_dbus_paths_sync(SecretService *_Nonnull service,
                                                      const SecretSchema *_Nullable schema,
                                                      GHashTable *_Nonnull attributes,
                                                      GCancellable *_Nullable cancellable,
                                                      gchar *_Nullable *_Nullable *_Nullable unlocked,
                                                      gchar *_Nullable *_Nullable *_Nullable locked,
                                                      GError *_Nullable *_Nullable error);
SecretValue *_Nullable gk_secret_service_get_secret_for_dbus_path_sync(SecretService *_Nonnull service,
                                                                       const gchar *_Nonnull path,
                                                                       GCancellable *_Nullable cancellable,
                                                                       GError *_Nullable *_Nullable error);
gboolean gk_secret_service_store_sync(SecretService *_Nonnull service, const SecretSchema *_Nullable schema,
                                      GHashTable *_Nonnull attributes, const gchar *_Nullable collection,
                                      const gchar *_Nonnull label, SecretValue *_Nonnull value,
                                      GCancellable *_Nullable cancellable, GError *_Nullable *_Nullable error);
gint gk_secret_service_lock_sync(SecretService *_Nullable service, GList *_Nonnull objects,
                                 GCancellable *_Nullable cancellable, GList *_Nullable *_Nullable locked,
                                 GError *_Nullable *_Nullable error);
SecretCollection *_Nullable gk_secret_collection_for_alias_sync(SecretService *_Nullable service,
                                                                const gchar *_Nonnull alias,
                                                                SecretCollectionFlags flags,
                                                                GCancellable *_Nullable cancellable,
                                                                GError *_Nullable *_Nullable error);
gboolean gk_secret_collection_get_locked(SecretCollection *_Nonnull collection);
GHashTable *_Nullable gk_secret_item_get_attributes(SecretItem *_Nonnull item);
guint64 gk_secret_item_get_created(SecretItem *_Nonnull item);
guint64 gk_secret_item_get_modified(SecretItem *_Nonnull item);
gboolean gk_secret_item_get_locked(SecretItem *_Nonnull item);
gboolean gk_secret_item_load_secret_sync(SecretItem *_Nonnull item, GCancellable *_Nullable cancellable,
                                         GError *_Nullable *_Nullable error);
SecretValue *_Nullable gk_secret_item_get_secret(SecretItem *_Nonnull item);
gboolean gk_secret_item_delete_sync(SecretItem *_Nonnull item, GCancellable *_Nullable cancellable,
                                    GError *_Nullable *_Nullable error);
SecretValue *_Nonnull gk_secret_value_new(const gchar *_Nullable secret, gssize length,
                                          const gchar *_Nonnull content_type);
const gchar *_Nullable gk_secret_value_get(SecretValue *_Nonnull value, gsize *_Nullable length);
void gk_secret_value_unref(gpointer _Nonnull value);

/// The gkpass item schema: attributes are not secret (libsecret stores them in clear, and `gkpass list` reads them
/// while the collection is locked) and do not change while an item lives (git-credential-libsecret's rule), so a
/// store with the same attributes replaces the item in place; the cookies and times, the expiry among them, live in
/// the secret itself. Items written before that carried an `expires` attribute; they are still read, and the first
/// write of the account replaces them. Other programs can read items with
/// `secret-tool lookup service gkpass account ACCOUNT kind ticket`. SECRET_SCHEMA_DONT_MATCH_NAME: the
/// `service=gkpass` attribute, not the schema name, is what identifies our items, so secret-tool stores interoperate.
/// Needs no loaded library.
const SecretSchema *_Nonnull gk_secret_schema(void);

#endif

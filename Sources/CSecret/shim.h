// CSecret: libsecret (Secret Service over D-Bus) for the desktop keyring store.
//
// Why a shim: a SecretSchema is a C struct with a fixed-size array of attribute descriptors, which Swift can only
// build through tuples; the schema is defined once here, where it reads like the design (design.md §6), and Swift
// gets a pointer to it. libsecret's variadic calls (secret_password_store_sync, ...) are not used: gkpass calls
// the *v_sync variants that take a GHashTable of attributes.
#ifndef GKPASS_CSECRET_SHIM_H
#define GKPASS_CSECRET_SHIM_H

// The D-Bus path calls (secret-paths.h: search for item paths, get one item's secret) are marked unstable in the
// header but have been exported unchanged since libsecret 0.6; they let a read skip building an item proxy, and a
// write count an account's items without building one each.
#define SECRET_API_SUBJECT_TO_CHANGE 1
#include <dlfcn.h>
#include <libsecret/secret.h>
#include <pthread.h>

// libsecret (and GLib under it) is loaded on first use (dlopen), not linked: GLib, GIO, GObject, libsecret and
// libgcrypt with their dependencies are fifteen libraries whose loading cost about a millisecond on every start,
// and most commands (gatekeeper, a `ticket` from the file store) never reach the keyring. Every Secret Service
// call goes through libsecret; SecretServiceStore.service() runs gk_secret_load() first. Swift calls
// gk_<name> forwarders, each through the table gk_secret_load() fills. The pattern is CCurl's.
#define GK_SECRET_EACH(X) \
    X(g_object_unref) X(g_object_ref) X(g_hash_table_new_full) X(g_hash_table_insert) \
    X(g_hash_table_lookup) X(g_hash_table_size) X(g_hash_table_unref) X(g_strdup) X(g_strfreev) \
    X(g_free) X(g_str_hash) X(g_str_equal) X(g_error_free) \
    X(g_io_error_quark) X(g_dbus_error_quark) X(g_dbus_error_get_remote_error) X(secret_error_get_quark) X(g_list_free_full) X(g_list_free) X(g_list_append) \
    X(g_cancellable_new) X(g_cancellable_cancel) X(secret_service_get_sync) X(secret_service_search_sync) \
    X(secret_service_search_for_dbus_paths_sync) X(secret_service_get_secret_for_dbus_path_sync) X(secret_service_store_sync) X(secret_service_lock_sync) \
    X(secret_collection_for_alias_sync) X(secret_collection_get_locked) X(secret_item_get_attributes) X(secret_item_get_created) X(secret_item_get_modified) \
    X(secret_item_get_locked) X(secret_item_load_secret_sync) X(secret_item_get_secret) X(secret_item_delete_sync) \
    X(secret_value_new) X(secret_value_get) X(secret_value_unref)

typedef struct {
#define GK_SECRET_FIELD(name) __typeof__(name) *name;
    GK_SECRET_EACH(GK_SECRET_FIELD)
#undef GK_SECRET_FIELD
} gk_secret_api;

typedef struct {
    gk_secret_api api;
    const char *error;
    pthread_once_t once;
} gk_secret_state;

/// The table (function-local: Swift's Clang importer emits no definitions for file-scope statics in a header).
/// Swift emits a header's static inline functions into each file that calls them, so there may be one table per
/// Swift file: call the loader in the file that calls the forwarders.
static inline gk_secret_state *_Nonnull gk_secret_state_get(void) {
    static gk_secret_state state = {.error = "libsecret was not loaded", .once = PTHREAD_ONCE_INIT};
    return &state;
}
#define gk_secret_table (gk_secret_state_get()->api)

static inline void gk_secret_load_once(void) {
    gk_secret_state *state = gk_secret_state_get();
    // GLOBAL: GLib's own plug-ins (GIO modules) expect its symbols in the global scope.
    void *library = dlopen("libsecret-1.so.0", RTLD_NOW | RTLD_GLOBAL);
    if (!library) { state->error = dlerror(); return; }
#define GK_SECRET_SYMBOL(name) \
    *(void **)(&gk_secret_table.name) = dlsym(library, #name); \
    if (!gk_secret_table.name) { state->error = "libsecret-1.so.0 (or GLib) lacks " #name; return; }
    GK_SECRET_EACH(GK_SECRET_SYMBOL)
#undef GK_SECRET_SYMBOL
    state->error = NULL;
}

/// Loads libsecret once (thread-safe). NULL on success, else why it could not be loaded.
static inline const char *_Nullable gk_secret_load(void) {
    gk_secret_state *state = gk_secret_state_get();
    pthread_once(&state->once, gk_secret_load_once);
    return state->error;
}

// Everything below requires a successful gk_secret_load(). The parentheses around each call keep GLib's
// function-like macros of the same names (g_object_ref, g_strdup) from expanding.
static inline void gk_g_object_unref(gpointer _Nonnull object) { (gk_secret_table.g_object_unref)(object); }
static inline gpointer _Nonnull gk_g_object_ref(gpointer _Nonnull object) { return (gk_secret_table.g_object_ref)(object); }
/// A GHashTable of strings to strings that owns (and g_free()s) its keys and values.
static inline GHashTable *_Nonnull gk_string_table_new(void) {
    return (gk_secret_table.g_hash_table_new_full)(gk_secret_table.g_str_hash, gk_secret_table.g_str_equal, gk_secret_table.g_free, gk_secret_table.g_free);
}
/// Inserts copies of `key` and `value`.
static inline void gk_string_table_insert(GHashTable *_Nonnull table, const char *_Nonnull key, const char *_Nonnull value) {
    (gk_secret_table.g_hash_table_insert)(table, (gk_secret_table.g_strdup)(key), (gk_secret_table.g_strdup)(value));
}
static inline gpointer _Nullable gk_g_hash_table_lookup(GHashTable *_Nonnull table, gconstpointer _Nullable key) {
    return (gk_secret_table.g_hash_table_lookup)(table, key);
}
static inline guint gk_g_hash_table_size(GHashTable *_Nonnull table) { return (gk_secret_table.g_hash_table_size)(table); }
static inline void gk_g_hash_table_unref(GHashTable *_Nonnull table) { (gk_secret_table.g_hash_table_unref)(table); }
static inline void gk_g_strfreev(gchar *_Nullable *_Nullable list) { (gk_secret_table.g_strfreev)(list); }
static inline void gk_g_error_free(GError *_Nonnull error) { (gk_secret_table.g_error_free)(error); }
static inline GQuark gk_g_io_error_quark(void) { return (gk_secret_table.g_io_error_quark)(); }
static inline GQuark gk_g_dbus_error_quark(void) { return (gk_secret_table.g_dbus_error_quark)(); }
/// The D-Bus error name of an error GDBus could not map to a GError domain (G_IO_ERROR_DBUS_ERROR); g_free() it.
static inline gchar *_Nullable gk_g_dbus_error_get_remote_error(const GError *_Nonnull e) { return (gk_secret_table.g_dbus_error_get_remote_error)(e); }
static inline void gk_g_free(gpointer _Nullable p) { (gk_secret_table.g_free)(p); }
static inline GQuark gk_secret_error_get_quark(void) { return (gk_secret_table.secret_error_get_quark)(); }
/// Frees a list of GObjects and drops the reference each element held.
static inline void gk_list_free_objects(GList *_Nullable list) { (gk_secret_table.g_list_free_full)(list, gk_secret_table.g_object_unref); }
static inline void gk_g_list_free(GList *_Nullable list) { (gk_secret_table.g_list_free)(list); }
static inline GList *_Nonnull gk_g_list_append(GList *_Nullable list, gpointer _Nullable data) { return (gk_secret_table.g_list_append)(list, data); }
static inline GCancellable *_Nonnull gk_g_cancellable_new(void) { return (gk_secret_table.g_cancellable_new)(); }
static inline void gk_g_cancellable_cancel(GCancellable *_Nullable c) { (gk_secret_table.g_cancellable_cancel)(c); }

static inline SecretService *_Nullable gk_secret_service_get_sync(SecretServiceFlags flags, GCancellable *_Nullable c, GError *_Nullable *_Nullable e) {
    return (gk_secret_table.secret_service_get_sync)(flags, c, e);
}
static inline GList *_Nullable gk_secret_service_search_sync(SecretService *_Nonnull s, const SecretSchema *_Nullable schema, GHashTable *_Nonnull attributes,
                                                             SecretSearchFlags flags, GCancellable *_Nullable c, GError *_Nullable *_Nullable e) {
    return (gk_secret_table.secret_service_search_sync)(s, schema, attributes, flags, c, e);
}
static inline gboolean gk_secret_service_search_for_dbus_paths_sync(SecretService *_Nonnull s, const SecretSchema *_Nullable schema, GHashTable *_Nonnull attributes,
                                                                    GCancellable *_Nullable c, gchar *_Nullable *_Nullable *_Nullable unlocked,
                                                                    gchar *_Nullable *_Nullable *_Nullable locked, GError *_Nullable *_Nullable e) {
    return (gk_secret_table.secret_service_search_for_dbus_paths_sync)(s, schema, attributes, c, unlocked, locked, e);
}
static inline SecretValue *_Nullable gk_secret_service_get_secret_for_dbus_path_sync(SecretService *_Nonnull s, const gchar *_Nonnull path,
                                                                                     GCancellable *_Nullable c, GError *_Nullable *_Nullable e) {
    return (gk_secret_table.secret_service_get_secret_for_dbus_path_sync)(s, path, c, e);
}
static inline gboolean gk_secret_service_store_sync(SecretService *_Nonnull s, const SecretSchema *_Nullable schema, GHashTable *_Nonnull attributes,
                                                    const gchar *_Nullable collection, const gchar *_Nonnull label, SecretValue *_Nonnull value,
                                                    GCancellable *_Nullable c, GError *_Nullable *_Nullable e) {
    return (gk_secret_table.secret_service_store_sync)(s, schema, attributes, collection, label, value, c, e);
}
static inline gint gk_secret_service_lock_sync(SecretService *_Nullable s, GList *_Nonnull objects, GCancellable *_Nullable c,
                                               GList *_Nullable *_Nullable locked, GError *_Nullable *_Nullable e) {
    return (gk_secret_table.secret_service_lock_sync)(s, objects, c, locked, e);
}
static inline SecretCollection *_Nullable gk_secret_collection_for_alias_sync(SecretService *_Nullable s, const gchar *_Nonnull alias,
                                                                              SecretCollectionFlags flags, GCancellable *_Nullable c, GError *_Nullable *_Nullable e) {
    return (gk_secret_table.secret_collection_for_alias_sync)(s, alias, flags, c, e);
}
static inline gboolean gk_secret_collection_get_locked(SecretCollection *_Nonnull c) { return (gk_secret_table.secret_collection_get_locked)(c); }
static inline GHashTable *_Nullable gk_secret_item_get_attributes(SecretItem *_Nonnull i) { return (gk_secret_table.secret_item_get_attributes)(i); }
static inline guint64 gk_secret_item_get_created(SecretItem *_Nonnull i) { return (gk_secret_table.secret_item_get_created)(i); }
static inline guint64 gk_secret_item_get_modified(SecretItem *_Nonnull i) { return (gk_secret_table.secret_item_get_modified)(i); }
static inline gboolean gk_secret_item_get_locked(SecretItem *_Nonnull i) { return (gk_secret_table.secret_item_get_locked)(i); }
static inline gboolean gk_secret_item_load_secret_sync(SecretItem *_Nonnull i, GCancellable *_Nullable c, GError *_Nullable *_Nullable e) {
    return (gk_secret_table.secret_item_load_secret_sync)(i, c, e);
}
static inline SecretValue *_Nullable gk_secret_item_get_secret(SecretItem *_Nonnull i) { return (gk_secret_table.secret_item_get_secret)(i); }
static inline gboolean gk_secret_item_delete_sync(SecretItem *_Nonnull i, GCancellable *_Nullable c, GError *_Nullable *_Nullable e) {
    return (gk_secret_table.secret_item_delete_sync)(i, c, e);
}
static inline SecretValue *_Nonnull gk_secret_value_new(const gchar *_Nullable secret, gssize length, const gchar *_Nonnull content_type) {
    return (gk_secret_table.secret_value_new)(secret, length, content_type);
}
static inline const gchar *_Nullable gk_secret_value_get(SecretValue *_Nonnull v, gsize *_Nullable length) { return (gk_secret_table.secret_value_get)(v, length); }
static inline void gk_secret_value_unref(gpointer _Nonnull v) { (gk_secret_table.secret_value_unref)(v); }

/// The gkpass item schema: attributes are not secret (libsecret stores them in clear, and `gkpass list` reads them
/// while the collection is locked) and do not change while an item lives (git-credential-libsecret's rule), so a
/// store with the same attributes replaces the item in place; the cookies and times, the expiry among them, live
/// in the secret itself. Items written before that carried an `expires` attribute; they are still read, and the
/// first write of the account replaces them. Items other programs can read with
/// `secret-tool lookup service gkpass account ACCOUNT kind ticket`. SECRET_SCHEMA_DONT_MATCH_NAME: the
/// `service=gkpass` attribute, not the schema name, is what identifies our items, so secret-tool stores interoperate.
static inline const SecretSchema *_Nonnull gk_secret_schema(void) {
    static const SecretSchema schema = {
        "org.gkpass.Ticket",
        SECRET_SCHEMA_DONT_MATCH_NAME,
        {
            {"service", SECRET_SCHEMA_ATTRIBUTE_STRING},
            {"account", SECRET_SCHEMA_ATTRIBUTE_STRING},
            {"network", SECRET_SCHEMA_ATTRIBUTE_STRING},
            {"kind", SECRET_SCHEMA_ATTRIBUTE_STRING},
            {NULL, 0},
        },
    };
    return &schema;
}

#endif

// libsecret (with GLib, GObject and GIO under it), loaded once on first use (see include/gkpass_loader.h for why, and
// for the contract of each function).
#define _GNU_SOURCE  // dlvsym
#include "gkpass_loader.h"
#include "loader.h"

#include <pthread.h>

GK_ELF_NOTE_DLOPEN(gk_secret_note,
    "[{\"feature\":\"keyring\",\"description\":\"Secret Service keyring store (the file store works without it)\","
    "\"priority\":\"recommended\",\"soname\":[\"libsecret-1.so.0\"]}]");

#define GK_SECRET_SONAME "libsecret-1.so.0"
#define GK_SECRET_PACKAGES "libsecret-1-0 and libglib2.0-0"

/// Every libsecret and GLib function gkpass calls, resolved at load (through libsecret's handle, which searches the
/// GLib, GObject and GIO it depends on). Neither library versions its symbols.
#define GK_SECRET_EACH(X)                                                                                          \
    X(g_object_unref) X(g_object_ref) X(g_hash_table_new_full) X(g_hash_table_insert) X(g_hash_table_lookup)       \
    X(g_hash_table_size) X(g_hash_table_unref) X(g_strdup) X(g_strfreev) X(g_free) X(g_str_hash) X(g_str_equal)   \
    X(g_error_free) X(g_io_error_quark) X(g_dbus_error_quark) X(g_dbus_error_get_remote_error)                     \
    X(secret_error_get_quark) X(g_list_free_full) X(g_list_free) X(g_list_append) X(g_cancellable_new)             \
    X(g_cancellable_cancel) X(g_cancellable_is_cancelled) X(secret_service_get_sync)                               \
    X(secret_service_search_sync)                                                                                  \
    X(secret_service_search_for_dbus_paths_sync) X(secret_service_get_secret_for_dbus_path_sync)                   \
    X(secret_service_store_sync) X(secret_service_lock_sync) X(secret_collection_for_alias_sync)                   \
    X(secret_collection_get_locked) X(secret_item_get_attributes) X(secret_item_get_created)                       \
    X(secret_item_get_modified) X(secret_item_get_locked) X(secret_item_load_secret_sync) X(secret_item_get_secret) \
    X(secret_item_delete_sync) X(secret_value_new) X(secret_value_get) X(secret_value_unref)

// The parentheses around each name keep GLib's function-like macros of the same names (g_object_ref, g_strdup)
// from expanding.
static struct {
#define GK_FIELD(name) __typeof__(name) *name;
    GK_SECRET_EACH(GK_FIELD)
#undef GK_FIELD
} table;

static const char *failure = "libsecret was not loaded";
static char failure_text[512];
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void load_once(void) {
    // GLOBAL: GLib's own plug-ins (GIO modules) expect its symbols in the global scope.
    void *library = dlopen(GK_SECRET_SONAME, RTLD_NOW | RTLD_GLOBAL);
    if (!library) {
        // dlerror names the file that is missing: libsecret itself, or a GLib library under it.
        snprintf(failure_text, sizeof failure_text, "cannot load " GK_SECRET_SONAME " from the packages "
                 GK_SECRET_PACKAGES " (%s)", dlerror());
        failure = failure_text;
        return;
    }
#define GK_RESOLVE(name)                                                                                           \
    *(void **)&table.name = gk_loader_symbol(library, #name, NULL);                                                 \
    if (!table.name) {                                                                                             \
        failure = GK_SECRET_SONAME " (packages " GK_SECRET_PACKAGES ") has no " #name;                            \
        return;                                                                                                    \
    }
    GK_SECRET_EACH(GK_RESOLVE)
#undef GK_RESOLVE
    failure = NULL;
}

const char *gk_secret_load(void) {
    pthread_once(&once, load_once);
    return failure;
}

// MARK: - Forwarders (each requires a successful gk_secret_load())

void gk_g_object_unref(gpointer object) { (table.g_object_unref)(object); }
gpointer gk_g_object_ref(gpointer object) { return (table.g_object_ref)(object); }
GHashTable *gk_string_table_new(void) {
    return (table.g_hash_table_new_full)(table.g_str_hash, table.g_str_equal, table.g_free, table.g_free);
}
void gk_string_table_insert(GHashTable *hash, const char *key, const char *value) {
    (table.g_hash_table_insert)(hash, (table.g_strdup)(key), (table.g_strdup)(value));
}
gpointer gk_g_hash_table_lookup(GHashTable *hash, gconstpointer key) { return (table.g_hash_table_lookup)(hash, key); }
guint gk_g_hash_table_size(GHashTable *hash) { return (table.g_hash_table_size)(hash); }
void gk_g_hash_table_unref(GHashTable *hash) { (table.g_hash_table_unref)(hash); }
void gk_g_strfreev(gchar **list) { (table.g_strfreev)(list); }
void gk_g_error_free(GError *error) { (table.g_error_free)(error); }
GQuark gk_g_io_error_quark(void) { return (table.g_io_error_quark)(); }
GQuark gk_g_dbus_error_quark(void) { return (table.g_dbus_error_quark)(); }
gchar *gk_g_dbus_error_get_remote_error(const GError *error) { return (table.g_dbus_error_get_remote_error)(error); }
void gk_g_free(gpointer pointer) { (table.g_free)(pointer); }
GQuark gk_secret_error_get_quark(void) { return (table.secret_error_get_quark)(); }
void gk_list_free_objects(GList *list) { (table.g_list_free_full)(list, table.g_object_unref); }
void gk_g_list_free(GList *list) { (table.g_list_free)(list); }
GList *gk_g_list_append(GList *list, gpointer data) { return (table.g_list_append)(list, data); }
GCancellable *gk_g_cancellable_new(void) { return (table.g_cancellable_new)(); }
void gk_g_cancellable_cancel(GCancellable *cancellable) { (table.g_cancellable_cancel)(cancellable); }
gboolean gk_g_cancellable_is_cancelled(GCancellable *cancellable) { return (table.g_cancellable_is_cancelled)(cancellable); }

SecretService *gk_secret_service_get_sync(SecretServiceFlags flags, GCancellable *c, GError **e) {
    return (table.secret_service_get_sync)(flags, c, e);
}
GList *gk_secret_service_search_sync(SecretService *s, const SecretSchema *schema, GHashTable *attributes,
                                     SecretSearchFlags flags, GCancellable *c, GError **e) {
    return (table.secret_service_search_sync)(s, schema, attributes, flags, c, e);
}
gboolean gk_secret_service_search_for_dbus_paths_sync(SecretService *s, const SecretSchema *schema,
                                                      GHashTable *attributes, GCancellable *c, gchar ***unlocked,
                                                      gchar ***locked, GError **e) {
    return (table.secret_service_search_for_dbus_paths_sync)(s, schema, attributes, c, unlocked, locked, e);
}
SecretValue *gk_secret_service_get_secret_for_dbus_path_sync(SecretService *s, const gchar *path, GCancellable *c,
                                                             GError **e) {
    return (table.secret_service_get_secret_for_dbus_path_sync)(s, path, c, e);
}
gboolean gk_secret_service_store_sync(SecretService *s, const SecretSchema *schema, GHashTable *attributes,
                                      const gchar *collection, const gchar *label, SecretValue *value,
                                      GCancellable *c, GError **e) {
    return (table.secret_service_store_sync)(s, schema, attributes, collection, label, value, c, e);
}
gint gk_secret_service_lock_sync(SecretService *s, GList *objects, GCancellable *c, GList **locked, GError **e) {
    return (table.secret_service_lock_sync)(s, objects, c, locked, e);
}
SecretCollection *gk_secret_collection_for_alias_sync(SecretService *s, const gchar *alias,
                                                      SecretCollectionFlags flags, GCancellable *c, GError **e) {
    return (table.secret_collection_for_alias_sync)(s, alias, flags, c, e);
}
gboolean gk_secret_collection_get_locked(SecretCollection *c) { return (table.secret_collection_get_locked)(c); }
GHashTable *gk_secret_item_get_attributes(SecretItem *i) { return (table.secret_item_get_attributes)(i); }
guint64 gk_secret_item_get_created(SecretItem *i) { return (table.secret_item_get_created)(i); }
guint64 gk_secret_item_get_modified(SecretItem *i) { return (table.secret_item_get_modified)(i); }
gboolean gk_secret_item_get_locked(SecretItem *i) { return (table.secret_item_get_locked)(i); }
gboolean gk_secret_item_load_secret_sync(SecretItem *i, GCancellable *c, GError **e) {
    return (table.secret_item_load_secret_sync)(i, c, e);
}
SecretValue *gk_secret_item_get_secret(SecretItem *i) { return (table.secret_item_get_secret)(i); }
gboolean gk_secret_item_delete_sync(SecretItem *i, GCancellable *c, GError **e) {
    return (table.secret_item_delete_sync)(i, c, e);
}
SecretValue *gk_secret_value_new(const gchar *secret, gssize length, const gchar *content_type) {
    return (table.secret_value_new)(secret, length, content_type);
}
const gchar *gk_secret_value_get(SecretValue *v, gsize *length) { return (table.secret_value_get)(v, length); }
void gk_secret_value_unref(gpointer v) { (table.secret_value_unref)(v); }

const SecretSchema *gk_secret_schema(void) {
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

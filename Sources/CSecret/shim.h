// CSecret: libsecret (Secret Service over D-Bus) for the desktop keyring store.
//
// Why a shim: a SecretSchema is a C struct with a fixed-size array of attribute descriptors, which Swift can only
// build through tuples; the schema is defined once here, where it reads like the design (design.md §6), and Swift
// gets a pointer to it. libsecret's variadic calls (secret_password_store_sync, ...) are not used: gkpass calls
// the *v_sync variants that take a GHashTable of attributes.
#ifndef GKPASS_CSECRET_SHIM_H
#define GKPASS_CSECRET_SHIM_H

// The D-Bus path calls (secret-paths.h: search for item paths, get one item's secret) are marked unstable in the
// header but have been exported unchanged since libsecret 0.6; they let a read skip building an item proxy.
#define SECRET_API_SUBJECT_TO_CHANGE 1
#include <libsecret/secret.h>

/// The gkpass item schema: attributes are not secret (libsecret stores them in clear, and `gkpass list` reads them
/// while the collection is locked); the cookies and times live in the secret itself. Items other programs can read
/// with `secret-tool lookup service gkpass account ACCOUNT kind ticket`. SECRET_SCHEMA_DONT_MATCH_NAME: the
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
            {"expires", SECRET_SCHEMA_ATTRIBUTE_STRING},
            {NULL, 0},
        },
    };
    return &schema;
}

/// Why: G_VARIANT_TYPE("a{ss}") is a cast macro Swift does not import. For the D-Bus calls of the direct read
/// (TicketStore/SecretServiceStore+Direct.swift); `type` must be a valid GVariant type string literal.
static inline const GVariantType *_Nonnull gk_variant_type(const char *_Nonnull type) {
    return (const GVariantType *)type;
}

#endif

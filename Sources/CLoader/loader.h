// Private to CLoader: the ELF dlopen note and the symbol lookup both loaders share (systemd's dlfcn-util pattern).
#ifndef GKPASS_LOADER_PRIVATE_H
#define GKPASS_LOADER_PRIVATE_H

#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>

/// One entry of the "ELF dlopen metadata" format (https://systemd.io/ELF_DLOPEN_METADATA/, systemd's
/// ELF_NOTE_DLOPEN): an ELF note owned by "FDO", type 0x407c0c0a, whose descriptor is a JSON array of
/// {feature, description, priority, soname[]} objects. `used` and `retain` keep it through the linker's
/// --gc-sections (nothing references it); packaging tools (dpkg, rpm, systemd-analyze dlopen-metadata) read it with
/// `readelf --notes`.
#define GK_ELF_NOTE_DLOPEN(variable, json)                                                                          \
    __attribute__((used, retain, section(".note.dlopen"), aligned(4))) static const struct {                       \
        struct { uint32_t n_namesz, n_descsz, n_type; } nhdr;                                                        \
        char name[sizeof("FDO")];                                                                                    \
        _Alignas(4) char json_text[(sizeof(json) + 3) & ~3u];                                                        \
    } variable = {                                                                                                   \
        .nhdr = {.n_namesz = sizeof("FDO"), .n_descsz = (sizeof(json) + 3) & ~3u, .n_type = UINT32_C(0x407c0c0a)},  \
        .name = "FDO",                                                                                               \
        .json_text = json,                                                                                           \
    }

/// `name` at symbol version `version` when the library versions its symbols (libcurl: CURL_OPENSSL_4 on Debian and
/// Ubuntu), else the unversioned lookup other distributions' builds need. NULL when neither finds it.
static inline void *gk_loader_symbol(void *library, const char *name, const char *version) {
    void *symbol = version ? dlvsym(library, name, version) : NULL;
    return symbol ? symbol : dlsym(library, name);
}

#endif

// CProcess: the one libc call Swift cannot make itself (prctl is variadic).
#ifndef GKPASS_CPROCESS_SHIM_H
#define GKPASS_CPROCESS_SHIM_H

#include <sys/prctl.h>
#include <sys/resource.h>

/// No core dumps, and no ptrace or /proc/PID/mem|environ access by other processes of the same user: gkpass holds
/// passwords and tickets in memory. Returns 0, or -1 with errno when the kernel refused.
static inline int gk_process_protect_secrets(void) {
    struct rlimit none = {0, 0};
    if (setrlimit(RLIMIT_CORE, &none) != 0) return -1;
    return prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

#endif

// CProcess: the one libc call Swift cannot make itself (prctl is variadic).
#ifndef GKPASS_CPROCESS_SHIM_H
#define GKPASS_CPROCESS_SHIM_H

#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <termios.h>
#include <unistd.h>

/// No core dumps, and no ptrace or /proc/PID/mem|environ access by other processes of the same user: gkpass holds
/// passwords and tickets in memory. Returns 0, or -1 with errno when the kernel refused.
static inline int gk_process_protect_secrets(void) {
    struct rlimit none = {0, 0};
    if (setrlimit(RLIMIT_CORE, &none) != 0) return -1;
    return prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

/// The no-echo password prompt's guard: while it is up, a signal that ends the process (Ctrl-C, Ctrl-\\, a hangup,
/// SIGTERM) first puts the terminal back as it was, then ends the process as the signal would have. Only
/// async-signal-safe calls run in the handler. The state is per translation unit (a static in a header): call
/// guard and unguard from the same Swift file.
struct gk_prompt_state {
    int fd;
    struct termios saved;
    struct sigaction previous[4];
};

// A function-local static: Swift's importer emits those (a file-scope static without a use in Swift is dropped).
static inline struct gk_prompt_state *_Nonnull gk_prompt_state_get(void) {
    static struct gk_prompt_state state = {.fd = -1};
    return &state;
}

static const int gk_prompt_signals[4] = {SIGINT, SIGQUIT, SIGHUP, SIGTERM};

static void gk_prompt_restore_and_reraise(int number) {
    struct gk_prompt_state *state = gk_prompt_state_get();
    if (state->fd >= 0) {
        tcsetattr(state->fd, TCSAFLUSH, &state->saved);
        ssize_t ignored = write(state->fd, "\n", 1);
        (void)ignored;
    }
    signal(number, SIG_DFL);
    raise(number);
}

/// Remembers `saved` as the terminal state of `fd` and installs the handlers. Returns 0, or -1 with errno.
static inline int gk_prompt_guard(int fd, const struct termios *_Nonnull saved) {
    struct gk_prompt_state *state = gk_prompt_state_get();
    state->saved = *saved;
    state->fd = fd;
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = gk_prompt_restore_and_reraise;
    sigemptyset(&action.sa_mask);
    for (int i = 0; i < 4; i++) {
        if (sigaction(gk_prompt_signals[i], &action, &state->previous[i]) != 0) return -1;
    }
    return 0;
}

/// Puts the previous handlers back; the caller restores the terminal itself.
static inline void gk_prompt_unguard(void) {
    struct gk_prompt_state *state = gk_prompt_state_get();
    for (int i = 0; i < 4; i++) sigaction(gk_prompt_signals[i], &state->previous[i], NULL);
    state->fd = -1;
}

#endif

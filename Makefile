# Thin wrappers over scripts/, which hold the real logic (and install missing apt packages when run as root),
# plus install/uninstall and the Debian package.
#   make install                      # to /usr/local, as root
#   make install PREFIX=$HOME/.local  # for yourself; add ~/.local/bin to PATH
#   make install DESTDIR=/tmp/stage PREFIX=/usr   # for packagers
.PHONY: all build release demo test bench fuzz docs check-docs install uninstall deb clean

PREFIX ?= /usr/local
DESTDIR ?=
BINDIR = $(PREFIX)/bin
MANDIR = $(PREFIX)/share/man/man1
BASHDIR = $(PREFIX)/share/bash-completion/completions
ZSHDIR = $(PREFIX)/share/zsh/site-functions
FISHDIR = $(PREFIX)/share/fish/vendor_completions.d
UNITDIR = $(PREFIX)/lib/systemd/user
DOCDIR = $(PREFIX)/share/doc/gkpass
RELEASE = $(shell swift build -c release --show-bin-path 2>/dev/null)

all: build

build:
	swift build

# Release binaries carry the Swift runtime inside (--static-swift-stdlib): they run without the toolchain, so they
# need no RUNPATH either (--disable-local-rpath): SwiftPM's default $ORIGIN made every start look for libc and libm
# in the binary's own directory first (a dozen failed lookups), a dlopen() of libcurl or libsecret prefer a copy
# there; lintian flags it (custom-library-search-path). scripts/bench and `make install` build through this target.
RELEASE_BUILD = swift build -c release --static-swift-stdlib --disable-local-rpath
release:
	$(RELEASE_BUILD) --product gkpass
	$(RELEASE_BUILD) --product gkpass-sandbox

demo:
	scripts/demo

test:
	scripts/test

bench:
	scripts/bench

fuzz:
	scripts/fuzz

docs:
	scripts/gen-docs

check-docs:
	scripts/gen-docs --check

install: release
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR) $(DESTDIR)$(BASHDIR) $(DESTDIR)$(ZSHDIR) $(DESTDIR)$(FISHDIR) \
		$(DESTDIR)$(UNITDIR) $(DESTDIR)$(DOCDIR)/examples
	install -m 0755 $(RELEASE)/gkpass $(RELEASE)/gkpass-sandbox $(DESTDIR)$(BINDIR)/
	install -m 0644 man/gkpass.1 man/gkpass-sandbox.1 $(DESTDIR)$(MANDIR)/
	# bash-completion sources these files; a #! line would only mislead.
	sed '1{/^#!/d}' completions/gkpass.bash >$(DESTDIR)$(BASHDIR)/gkpass
	sed '1{/^#!/d}' completions/gkpass-sandbox.bash >$(DESTDIR)$(BASHDIR)/gkpass-sandbox
	chmod 0644 $(DESTDIR)$(BASHDIR)/gkpass $(DESTDIR)$(BASHDIR)/gkpass-sandbox
	install -m 0644 completions/_gkpass completions/_gkpass-sandbox $(DESTDIR)$(ZSHDIR)/
	install -m 0644 completions/gkpass.fish completions/gkpass-sandbox.fish $(DESTDIR)$(FISHDIR)/
	install -m 0644 contrib/systemd/gkpass-refresh.service contrib/systemd/gkpass-refresh.timer $(DESTDIR)$(UNITDIR)/
	install -m 0644 README.md docs/benchmarks.md docs/irc-clients.md $(DESTDIR)$(DOCDIR)/
	install -m 0755 contrib/examples/gatekeeper-guest.sh $(DESTDIR)$(DOCDIR)/examples/

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/gkpass $(DESTDIR)$(BINDIR)/gkpass-sandbox \
		$(DESTDIR)$(MANDIR)/gkpass.1 $(DESTDIR)$(MANDIR)/gkpass-sandbox.1 \
		$(DESTDIR)$(BASHDIR)/gkpass $(DESTDIR)$(BASHDIR)/gkpass-sandbox \
		$(DESTDIR)$(ZSHDIR)/_gkpass $(DESTDIR)$(ZSHDIR)/_gkpass-sandbox \
		$(DESTDIR)$(FISHDIR)/gkpass.fish $(DESTDIR)$(FISHDIR)/gkpass-sandbox.fish \
		$(DESTDIR)$(UNITDIR)/gkpass-refresh.service $(DESTDIR)$(UNITDIR)/gkpass-refresh.timer
	rm -rf $(DESTDIR)$(DOCDIR)

deb:
	scripts/deb

clean:
	rm -rf .build

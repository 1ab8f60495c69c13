# Thin wrappers over scripts/, which hold the real logic (and install missing apt packages when run as root).
.PHONY: all build demo test bench docs check-docs clean

all: build

build:
	swift build

demo:
	scripts/demo

test:
	scripts/test

bench:
	scripts/bench

docs:
	scripts/gen-docs

check-docs:
	scripts/gen-docs --check

clean:
	rm -rf .build

#!/usr/bin/env python3
"""Part of scripts/bench: hyperfine runs made in interleaved rounds, summed up as one markdown table.

    bench/rounds.py ANCHOR ROUND.json...   -> markdown on stdout

Each ROUND.json is one hyperfine --export-json run of the same commands (in a rotated order). Every sample of a
command over all rounds goes into its mean, spread, minimum and maximum; "x anchor" is the ratio of its mean to the
mean of the command named ANCHOR, and the last column the lowest and highest ratio of the rounds' own means. Rounds
rather than one long run: a change in the machine's load then meets every command alike instead of whichever ran
during it.
"""
import json
import statistics
import sys


def main() -> int:
    anchor, files = sys.argv[1], sys.argv[2:]
    samples: dict[str, list[float]] = {}
    per_round: dict[str, list[float]] = {}
    order: list[str] = []
    for path in files:
        with open(path) as handle:
            results = {r["command"]: r for r in json.load(handle)["results"]}
        if anchor not in results:
            print(f"rounds.py: no command named {anchor!r} in {path}", file=sys.stderr)
            return 1
        for name, result in results.items():
            if name not in order:
                order.append(name)
            samples.setdefault(name, []).extend(result["times"])
            per_round.setdefault(name, []).append(result["mean"] / results[anchor]["mean"])
    base = statistics.mean(samples[anchor])
    print("| Command | Mean [ms] | Min [ms] | Max [ms] | x anchor | rounds: lowest to highest |")
    print("|:---|---:|---:|---:|---:|---:|")
    for name in sorted(order, key=lambda n: (n == anchor, order.index(n))):
        times = samples[name]
        mean, spread = statistics.mean(times) * 1e3, statistics.pstdev(times) * 1e3
        ratios = per_round[name]
        print(f"| {name} | {mean:.1f} ± {spread:.1f} | {min(times) * 1e3:.1f} | {max(times) * 1e3:.1f} | "
              f"{statistics.mean(times) / base:.2f} | {min(ratios):.2f} to {max(ratios):.2f} |")
    print()
    print(f"{len(files)} rounds, {len(samples[anchor])} runs of each command.")
    return 0


if __name__ == "__main__":
    sys.exit(main())

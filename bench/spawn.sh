#!/usr/bin/env bash
# Measures a whole `osorganic spawn` (render, write, commit, base ref) against the floor: `cp -r` of the same
# rendered tree plus `git init && git add -A && git commit`, in one run, and prints the ratio (target: <= 1.3x).
# Uses the release binary; hyperfine when installed (`apt-get install hyperfine`), a timed loop otherwise.
#   bash bench/spawn.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-30}"

cargo build --release --quiet --package osorganic --bin osorganic
osorganic="$PWD/target/release/osorganic"

scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
# Both sides commit with the same identity and no user or system config.
export HOME="$scratch/home" GIT_CONFIG_GLOBAL="$scratch/home/.gitconfig" GIT_CONFIG_NOSYSTEM=1 NO_COLOR=1
mkdir -p "$HOME"
printf '[user]\n\tname = bench\n\temail = bench@localhost\n' >"$GIT_CONFIG_GLOBAL"

# The floor copies exactly what spawn writes: the rendered tree (with its record), without the repository.
"$osorganic" spawn bench --yes --no-git --dest "$scratch/rendered" 2>/dev/null
files="$(find "$scratch/rendered" -type f | wc -l)"

spawn_cmd="$osorganic spawn bench --yes --dest $scratch/spawned"
floor_cmd="cp -r $scratch/rendered $scratch/floor && cd $scratch/floor && git init -q -b main && git add -A && git commit -q -m floor"

if command -v hyperfine >/dev/null 2>&1; then
  hyperfine --warmup 3 --runs "$runs" --style basic \
    --export-json "$scratch/result.json" \
    --prepare "rm -rf $scratch/spawned" --command-name "osorganic spawn" "$spawn_cmd 2>/dev/null" \
    --prepare "rm -rf $scratch/floor" --command-name "floor (cp -r + git init/add/commit)" "$floor_cmd" >&2
  read -r spawn_ms floor_ms < <(python3 -c '
import json, sys
results = json.load(open(sys.argv[1]))["results"]
print(" ".join("%.2f" % (r["mean"] * 1000) for r in results))' "$scratch/result.json")
else
  mean_ms() {
    local command="$1" target="$2" total=0 start end
    for _ in $(seq "$runs"); do
      rm -rf "$target"
      start="$(date +%s%N)"
      bash -c "$command" >/dev/null 2>&1
      end="$(date +%s%N)"
      total=$((total + end - start))
    done
    awk -v total="$total" -v runs="$runs" 'BEGIN { printf "%.2f", total / runs / 1e6 }'
  }
  spawn_ms="$(mean_ms "$spawn_cmd" "$scratch/spawned")"
  floor_ms="$(mean_ms "$floor_cmd" "$scratch/floor")"
fi

ratio="$(awk -v spawn="$spawn_ms" -v floor="$floor_ms" 'BEGIN { printf "%.2f", spawn / floor }')"
echo "files: $files  spawn: ${spawn_ms} ms  floor: ${floor_ms} ms  ratio: ${ratio}x (target <= 1.3x)"

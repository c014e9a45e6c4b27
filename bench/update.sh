#!/usr/bin/env bash
# Benchmark of `osorganic update` on templates of 400 and 6400 files with ~5% of the files changed by the template
# (and a few edited by the user), against `copier update` on the same content and against the floor: `git apply` of
# the template's own diff on the same child.
#
# Usage: bench/update.sh [SIZES...]   (default: 400 6400)
# Needs: a release build (cargo build --release) and copier in $COPIER (default: copier on PATH), e.g.
#   python3 -m venv /tmp/copier-venv && /tmp/copier-venv/bin/pip install copier
#   COPIER=/tmp/copier-venv/bin/copier bench/update.sh
# COPIER=none skips copier (osorganic and the floor only); KEEP=1 keeps the work folder and prints it.
# CHANGE_EVERY=N makes the template change one file in N (default 20, ~5%): with a larger N on the same size, the
# time shows how it follows the number of changed files rather than the size of the child. RUNS=N (default 5): the
# median of N runs of osorganic and of the floor is reported (copier runs once: it takes a minute at 6400 files).
# TEMPLATED_EVERY=N (default 0: none) makes one file in N of the osorganic template a Tera template (`.tera`, its
# first line rendering the project name), as in a real template where many files are rendered.
set -euo pipefail
cd "$(dirname "$0")/.."
OSORGANIC="${OSORGANIC:-$PWD/target/release/osorganic}"
COPIER="${COPIER:-copier}"
SIZES=("${@:-400 6400}")
read -r -a SIZES <<< "${SIZES[*]}"
CHANGE_EVERY="${CHANGE_EVERY:-20}"
TEMPLATED_EVERY="${TEMPLATED_EVERY:-0}"
export TEMPLATED_EVERY
RUNS="${RUNS:-5}"
export CHANGE_EVERY
WORK="$(mktemp -d)"
if [[ "${KEEP:-}" == 1 ]]; then echo "work folder: $WORK" >&2; else trap 'rm -rf "$WORK"' EXIT; fi
export GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@example.com GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@example.com
export GIT_CONFIG_NOSYSTEM=1 HOME="$WORK"

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
median() { printf '%s\n' "$@" | sort -g | awk '{ value[NR] = $1 } END { print value[int((NR + 1) / 2)] }'; }

# write_files DIR COUNT VERSION: COUNT files of 20 lines in 20 folders; files whose index is a multiple of
# $CHANGE_EVERY say VERSION.
write_files() {
  local dir=$1 count=$2 version=$3
  python3 - "$dir" "$count" "$version" <<'PY'
import os, sys
root, count, version = sys.argv[1], int(sys.argv[2]), sys.argv[3]
change_every = int(os.environ["CHANGE_EVERY"])
for index in range(count):
    folder = os.path.join(root, f"pkg{index % 20}")
    os.makedirs(folder, exist_ok=True)
    lines = [f"line {n} of file {index}" for n in range(20)]
    if index % change_every == 0 and version != "1":  # one file in CHANGE_EVERY changes with the version
        lines[10] = f"line 10 of file {index}, template version {version}"
    with open(os.path.join(folder, f"file{index}.txt"), "w") as handle:
        handle.write("\n".join(lines) + "\n")
PY
}

# templatise DIR COUNT: with TEMPLATED_EVERY=N, one file in N becomes `fileI.txt.tera` whose first line renders the
# project name (far from the lines the versions change, so the floor's diff still applies).
templatise() {
  local dir=$1 count=$2
  [[ "$TEMPLATED_EVERY" == 0 ]] && return 0
  python3 - "$dir" "$count" <<'PY'
import os, sys
root, count = sys.argv[1], int(sys.argv[2])
every = int(os.environ["TEMPLATED_EVERY"])
for index in range(0, count, every):
    path = os.path.join(root, f"pkg{index % 20}", f"file{index}.txt")
    with open(path) as handle:
        lines = handle.read().split("\n")
    lines[0] = "line 0 of file %d in {{ project_name }}" % index
    with open(path + ".tera", "w") as handle:
        handle.write("\n".join(lines))
    os.remove(path)
PY
}

run_size() {
  local size=$1 dir="$WORK/$size"
  mkdir -p "$dir"
  # The template as a git repository with tags v1 and v2 (copier needs git tags; osorganic reads the folder).
  local tpl="$dir/template"
  mkdir -p "$tpl/files"
  write_files "$tpl/files" "$size" 1
  printf '[template]\nname = "bench"\nversion = "1.0.0"\n' > "$tpl/template.toml"
  printf '_subdirectory: files\n_templates_suffix: .jinja\n' > "$tpl/copier.yml"
  printf '{{ _copier_answers|to_nice_yaml }}' > "$tpl/files/{{ _copier_conf.answers_file }}.jinja"
  git -C "$tpl" init -q -b main && git -C "$tpl" add -A && git -C "$tpl" commit -qm v1 && git -C "$tpl" tag v1

  # The same files as an osorganic template folder (template.toml beside them), and the child spawned from it.
  local otpl="$dir/osorganic-template"
  mkdir -p "$otpl" && cp -r "$tpl/files/." "$otpl/" && rm -f "$otpl/{{ _copier_conf.answers_file }}.jinja"
  printf '[template]\nname = "bench"\nversion = "1.0.0"\n' > "$otpl/template.toml"
  templatise "$otpl" "$size"
  local child="$dir/osorganic-child"
  "$OSORGANIC" spawn bench --template "$otpl" --dest "$child" --yes >/dev/null 2>&1

  # copier child from v1.
  local copier_child="$dir/copier-child"
  local children=("$child")
  if [[ "$COPIER" != none ]]; then
    "$COPIER" copy --quiet --trust --defaults -r v1 "$tpl" "$copier_child" >/dev/null
    git -C "$copier_child" init -q -b main && git -C "$copier_child" add -A && git -C "$copier_child" commit -qm spawn
    children+=("$copier_child")
  fi

  # The user edits 1% of the files (line 2), in both children.
  for child_dir in "${children[@]}"; do
    for ((index = 7; index < size; index += 100)); do
      sed -i "s/^line 2 of file $index\$/line 2 edited by the user/" "$child_dir/pkg$((index % 20))/file$index.txt"
    done
    git -C "$child_dir" commit -qam "user edits"
  done

  # Template v2: ~5% of the files change.
  write_files "$tpl/files" "$size" 2
  git -C "$tpl" add -A && git -C "$tpl" commit -qm v2 && git -C "$tpl" tag v2
  # The osorganic template folder at v2.
  find "$otpl" -name '*.tera' -delete
  write_files "$otpl" "$size" 2
  templatise "$otpl" "$size"
  printf '[template]\nname = "bench"\nversion = "2.0.0"\n' > "$otpl/template.toml"

  # A real child's files are older than its index. Here both were written within the same second, which leaves
  # every index entry racily clean, so any status (git's or libgit2's) would rehash the whole child: let a second
  # pass and refresh the index, as the user's next `git status` would.
  sleep 1 && git -C "$child" update-index -q --refresh

  # The floor: git apply of the template's own diff. Both it and osorganic run $RUNS times, each on a fresh copy of
  # the child (copied before timing, its index refreshed), and the median is kept: single runs swing widely here.
  git -C "$tpl" diff v1 v2 -- files > "$dir/template.diff"
  local start end run floor_times=() osorganic_times=()
  for ((run = 0; run < RUNS; run++)); do
    local floor="$dir/floor-child-$run" copy="$dir/osorganic-child-$run"
    cp -r "$child" "$floor" && cp -r "$child" "$copy"
    sleep 1 && git -C "$floor" update-index -q --refresh && git -C "$copy" update-index -q --refresh
    start=$(now); git -C "$floor" apply -p2 --3way "$dir/template.diff" >/dev/null 2>&1 || git -C "$floor" apply -p2 "$dir/template.diff"; end=$(now)
    floor_times+=("$(elapsed "$start" "$end")")
    start=$(now); "$OSORGANIC" update --path "$copy" 2>/dev/null; end=$(now)
    osorganic_times+=("$(elapsed "$start" "$end")")
    git -C "$copy" diff --quiet HEAD || { echo "osorganic left the child dirty" >&2; exit 1; }
    rm -rf "$floor" "$copy"
  done
  local floor_time osorganic_time
  floor_time=$(median "${floor_times[@]}")
  osorganic_time=$(median "${osorganic_times[@]}")

  local copier_time=0
  if [[ "$COPIER" != none ]]; then
    start=$(now); (cd "$copier_child" && "$COPIER" update --quiet --trust --defaults -r v2 >/dev/null 2>&1); end=$(now)
    copier_time=$(elapsed "$start" "$end")
  fi

  local changed=$(((size + CHANGE_EVERY - 1) / CHANGE_EVERY))
  awk -v size="$size" -v changed="$changed" -v o="$osorganic_time" -v c="$copier_time" -v f="$floor_time" 'BEGIN {
    printf "%5d files, %4d changed: osorganic %.3fs (median)  copier %.3fs (%.0fx slower)  git apply floor %.3fs (median; osorganic %.1fx the floor)\n",
      size, changed, o, c, (c > 0 ? c / o : 0), f, o / f }'
}

for size in "${SIZES[@]}"; do
  run_size "$size"
done

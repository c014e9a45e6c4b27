#!/usr/bin/env bash
# Times `osorganic doctor --offline` on a freshly spawned child (target: well under 200 ms).
# Usage: bench/doctor.sh [RUNS]   (default 20). Builds the release binary first.
set -euo pipefail

runs="${1:-20}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cargo build --release --quiet --manifest-path "$root/Cargo.toml" --bin osorganic
binary="$root/target/release/osorganic"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# A pinned identity so spawn's commits do not depend on the machine's git config.
export GIT_CONFIG_GLOBAL="$work/gitconfig" GIT_CONFIG_NOSYSTEM=1 NO_COLOR=1
"$binary" spawn demo --yes --dest "$work/demo" 2>/dev/null
cat >"$work/demo.env" <<'VARS'
GITHUB_WEBHOOK_SECRET=0123456789abcdef0123456789abcdef
DATABASE_URL=postgresql://postgres.ref:pw@aws-0-eu-west-1.pooler.supabase.com:6543/postgres
GITHUB_TOKEN=github_pat_bench
GITHUB_REPOSITORY=acme/demo
OSORGANIC_BOT_LOGIN=demo-bot[bot]
LLM_PROVIDER=openai
OPENAI_API_KEY=sk-bench
CRON_SECRET=cron-secret-for-bench
VARS

doctor=("$binary" doctor --offline --path "$work/demo" --env-file "$work/demo.env")
status=0
"${doctor[@]}" >/dev/null || status=$?
if [ "$status" -ne 0 ]; then
    echo "doctor found errors on a fresh child (exit $status):" >&2
    "${doctor[@]}" >&2 || true
    exit 1
fi

if command -v hyperfine >/dev/null; then
    hyperfine --warmup 3 --runs "$runs" --shell=none "${doctor[*]}"
    exit 0
fi

"${doctor[@]}" >/dev/null # warm the file cache
timings=()
for _ in $(seq "$runs"); do
    start=$(date +%s%N)
    "${doctor[@]}" >/dev/null
    end=$(date +%s%N)
    timings+=($(((end - start) / 1000)))
done
printf '%s\n' "${timings[@]}" | sort -n | awk -v runs="$runs" '
    { t[NR] = $1; sum += $1 }
    END {
        printf "doctor --offline on a fresh child, %d runs: median %.1f ms, mean %.1f ms, min %.1f ms, max %.1f ms\n",
            runs, t[int((NR + 1) / 2)] / 1000, sum / NR / 1000, t[1] / 1000, t[NR] / 1000
    }'

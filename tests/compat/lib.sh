# Shared helpers for the restic interop tests (sourced, not run).
#
# Each test script is called as `script CLAWBACK_BINARY` (ctest passes it; $CLAWBACK_BINARY
# also works), makes its own temp dir, and exits 0 (pass), 1 (fail) or 77 (skipped:
# restic missing). Everything runs against local temp repositories with --no-cache.
set -euo pipefail

CLAWBACK=${1:-${CLAWBACK_BINARY:-}}
if [ -z "$CLAWBACK" ] || [ ! -x "$CLAWBACK" ]; then
  echo "usage: $0 CLAWBACK_BINARY (got '${CLAWBACK}')" >&2
  exit 2
fi
if ! command -v restic >/dev/null 2>&1; then
  echo "SKIP: restic is not installed" >&2
  exit 77
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/clawback-compat.XXXXXX")
cleanup() {
  local rc=$?
  if [ $rc -ne 0 ] && [ -n "${KEEP_FAILED:-}" ]; then
    echo "kept $WORK for inspection" >&2
  else
    chmod -R u+w "$WORK" 2>/dev/null || true
    rm -rf "$WORK"
  fi
}
trap cleanup EXIT

PASSWORD_FILE=$WORK/password
printf 'compat-password' >"$PASSWORD_FILE"
export RESTIC_PASSWORD_FILE=$PASSWORD_FILE
export CLAWBACK_PASSWORD_FILE=$PASSWORD_FILE
unset CLAWBACK_REPOSITORY CLAWBACK_PASSWORD RESTIC_REPOSITORY RESTIC_PASSWORD || true
export CLAWBACK_HOME=$WORK/clawback-home  # never touch the user's data dir

step() { echo "--- $*"; }
fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# Runs restic against repository $1 with the test password and no cache.
r() {
  local repo=$1
  shift
  restic -r "$repo" --no-cache -q "$@"
}
# Runs clawback against repository $1 ($1 is passed as --repo after the subcommand words
# given in $2, e.g. `cb REPO "snapshot" PATH...`).
cb() {
  local repo=$1
  shift
  "$CLAWBACK" "$@" --repo "$repo"
}

# make_tree DIR: a small tree exercising what a restore must reproduce: nested dirs, an
# empty file, a multi-chunk random file, compressible text, odd names (quote, backslash,
# tab, é, a non-UTF-8 byte, <>&, a leading dash), modes (0600, 0755, setgid dir, sticky
# dir), symlinks (relative, absolute, dangling), a hard-link pair, and nanosecond mtimes.
make_tree() {
  local d=$1
  mkdir -p "$d/sub/deeper" "$d/empty-dir" "$d/modes"
  printf 'hello restic\n' >"$d/hello.txt"
  : >"$d/empty-file"
  head -c 2500000 /dev/urandom >"$d/sub/random.bin"        # a few chunks
  for i in $(seq 1 4000); do echo "line $i: the quick brown fox $((i % 17))"; done >"$d/sub/text.log"
  printf 'q' >"$d/sub/we\"ird\\back	tab é.txt"
  printf 'x' >"$d/sub/$(printf 'bad\xffname')"
  printf 'y' >"$d/sub/a<b>&c"
  printf 'z' >"$d/sub/deeper/-dash"
  printf 'secret' >"$d/modes/private"
  chmod 600 "$d/modes/private"
  printf '#!/bin/sh\necho hi\n' >"$d/modes/script.sh"
  chmod 755 "$d/modes/script.sh"
  mkdir -p "$d/modes/sticky" "$d/modes/setgid"
  chmod 1777 "$d/modes/sticky"
  chmod 2750 "$d/modes/setgid"
  ln -s ../hello.txt "$d/sub/link-rel"
  ln -s /nonexistent/target "$d/sub/link-dangling"
  ln -s "$d/hello.txt" "$d/link-abs"
  printf 'linked content\n' >"$d/hard-a"
  ln "$d/hard-a" "$d/sub/hard-b"
  touch -h -d '2021-03-04 05:06:07.123456789' "$d/sub/link-rel"
  touch -d '2020-01-02 03:04:05.987654321' "$d/hello.txt" "$d/sub/random.bin"
  touch -d '2019-07-08 09:10:11.5' "$d/sub/deeper" "$d/empty-dir"
}

# tree_manifest DIR: one line per entry: path, type, mode, size (files), mtime (ns), link
# target; sorted. Directory mtimes are included; atime/ctime are not.
tree_manifest() {
  (cd "$1" && find . -mindepth 1 -printf '%P|%y|%m|%s|%T@|%l|%n\n' |
    awk -F'|' 'BEGIN { OFS = "|" } $2 == "d" { $4 = "-" } $2 == "l" { $3 = "-" } { print }' |
    LC_ALL=C sort)
}

# same_tree SRC DST: contents byte for byte and the manifest must match.
same_tree() {
  local src=$1 dst=$2
  diff -r --no-dereference "$src" "$dst" >"$WORK/diff.out" 2>&1 ||
    { cat "$WORK/diff.out" >&2; fail "contents differ between $src and $dst"; }
  tree_manifest "$src" >"$WORK/manifest.src"
  tree_manifest "$dst" >"$WORK/manifest.dst"
  diff "$WORK/manifest.src" "$WORK/manifest.dst" >&2 ||
    fail "metadata (modes, mtimes, link targets, hard links) differ between $src and $dst"
}

# The directory restic/clawback restore an absolute path into.
restored() { echo "$1$2"; }

# data_blob_count REPO: number of data blobs restic sees in the index.
data_blob_count() { r "$1" list blobs | awk '$1 == "data"' | sort -u | wc -l; }

restic_check_clean() {
  local repo=$1
  shift
  restic -r "$repo" --no-cache check "$@" >"$WORK/check.out" 2>&1 ||
    { cat "$WORK/check.out" >&2; fail "restic check $* on $repo failed"; }
  grep -q "no errors were found" "$WORK/check.out" ||
    { cat "$WORK/check.out" >&2; fail "restic check $* did not say 'no errors were found'"; }
}

#!/usr/bin/env bash
# Benchmark: the release binary over loopback, loaded with wrk.
#
#   bash bench/run.sh                  # SQLite in a temporary folder
#   BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/afterword_bench bash bench/run.sh
#
# It creates an article page with 200 comments (50 threads of four), then measures
# page views (GET of that article page) and comment posting, each with wrk at 32
# connections. Numbers go to standard output; BENCHMARKS.md records them.
set -euo pipefail
cd "$(dirname "$0")/.."

PORT=${BENCH_PORT:-18080}
DURATION=${BENCH_DURATION:-20s}
CONNECTIONS=${BENCH_CONNECTIONS:-32}
BASE="http://127.0.0.1:$PORT"

command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
command -v curl >/dev/null || { apt-get update -qq && apt-get install -y -qq curl >/dev/null; }
cargo build --release --locked --bin afterword

WORK=$(mktemp -d)
DB_URL=${BENCH_DATABASE_URL:-sqlite://$WORK/bench.db}
if [[ $DB_URL == postgres* ]]; then
  admin=${DB_URL%/*}/postgres
  name=${DB_URL##*/}
  psql "$admin" -qc "DROP DATABASE IF EXISTS $name WITH (FORCE)" -c "CREATE DATABASE $name" >/dev/null
fi

RUST_LOG=warn ./target/release/afterword serve --demo --database-url "$DB_URL" --bind "127.0.0.1:$PORT" \
  --rate-limit 0 --auth-rate-limit 0 --comment-rate-limit 0 --comment-daily-limit 0 --pool-size 16 &
SERVER=$!
cleanup() {
  kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null
  rm -rf "$WORK"
  if [[ $DB_URL == postgres* ]]; then psql "$admin" -qc "DROP DATABASE IF EXISTS $name WITH (FORCE)" >/dev/null; fi
}
trap cleanup EXIT
for _ in $(seq 100); do curl -fs "$BASE/healthz" >/dev/null && break; sleep 0.1; done

# Two readers: one writes the thread, the other votes, so that scores vary.
jar() { echo "$WORK/$1.cookies"; }
token() { curl -fs -b "$(jar "$1")" -c "$(jar "$1")" "$BASE/login" | grep -o 'name="csrf_token" value="[^"]*"' | head -n1 | sed 's/.*value="//; s/"$//'; }
post() { # user path field=value...
  local user=$1 path=$2; shift 2
  local args=(-s -o /dev/null -w '%{redirect_url}' -b "$(jar "$user")" -c "$(jar "$user")" -H "Origin: $BASE" --data-urlencode "csrf_token=$(token "$user")")
  for field in "$@"; do args+=(--data-urlencode "$field"); done
  curl "${args[@]}" "$BASE$path"
}
for user in writer voter; do
  post "$user" /signup "username=$user" "email=$user@example.com" "password=benchmark passphrase" >/dev/null
done
SLUG=$(curl -fs "$BASE/" | grep -o 'href="/articles/[^"#]*"' | head -n1 | sed 's#href="/articles/##; s/"$//')

echo "Creating 200 comments on /articles/$SLUG …"
for thread in $(seq 50); do
  body="Thread $thread: **Markdown** with a [link](https://example.com/$thread) and \`code\`."
  top=$(post writer "/articles/$SLUG/comments" "body=$body"); top=${top##*comment-}
  parent=$top
  for reply in 1 2 3; do
    id=$(post writer "/articles/$SLUG/comments" "body=Reply $reply in thread $thread" "parent_id=$parent"); id=${id##*comment-}
    parent=$id
  done
  post voter "/comments/$top/vote" "value=$(( thread % 3 == 0 ? -1 : 1 ))" >/dev/null
done
count=$(curl -fs "$BASE/articles/$SLUG" | grep -o 'class="comment"' | wc -l)
echo "The page shows $count comments ($(curl -fs "$BASE/articles/$SLUG" | wc -c) bytes)."

echo
echo "== GET /articles/$SLUG (anonymous, $CONNECTIONS connections, $DURATION)"
wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --latency "$BASE/articles/$SLUG"

echo
echo "== POST /articles/$SLUG/comments ($CONNECTIONS connections, $DURATION)"
SESSION=$(awk '$6 == "afterword_session" { print $7 }' "$(jar writer)")
TOKEN=$(token writer)
cat > "$WORK/post.lua" <<LUA
wrk.method = "POST"
wrk.body = "csrf_token=$TOKEN&body=Benchmark+comment+with+*emphasis*"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Cookie"] = "afterword_session=$SESSION"
wrk.headers["Origin"] = "$BASE"
LUA
wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --latency -s "$WORK/post.lua" "$BASE/articles/$SLUG/comments"

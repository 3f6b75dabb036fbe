#!/usr/bin/env bash
# The flow a new user follows, from the packed npm tarball, in empty directories outside this
# repository: `new` → `npm install` → `npm run invoke`; the sqs template with
# `invoke --data-example sqs`; `npm run package` (offline); one watch cycle (edit → rebuild →
# the new answer). Prints how long each step took; exits non-zero at the first failure.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export npm_config_audit=false npm_config_fund=false npm_config_update_notifier=false

started=$SECONDS
step() { printf '\n== user-flow: %s\n' "$*"; }
took() { printf 'user-flow: %s: %ss\n' "$1" "$(($SECONDS - $2))"; }
expect() { # expect FILE TEXT: the step's output must contain TEXT
  grep -qF -- "$2" "$1" || { echo "user-flow: expected '$2' in:" >&2; cat "$1" >&2; exit 1; }
}

step "npm pack"
t=$SECONDS
tarball="$(cd "$repo" && npm pack --silent --pack-destination "$work" | tail -n 1)"
took "npm pack" "$t"

step "install the tarball into an empty directory"
mkdir "$work/user" && cd "$work/user"
npm init -y >/dev/null
npm install --silent "$work/$tarball"

step "new demo → npm install → npm run invoke"
t=$SECONDS
npx wasi-lambda new demo
cd demo
npm install --silent
npm run invoke >"$work/invoke.out"
cat "$work/invoke.out"
expect "$work/invoke.out" '{"message":"Hello, Ada!"}'
took "new → first invoke" "$t"
t=$SECONDS
npm run invoke >"$work/invoke.out"
expect "$work/invoke.out" '{"message":"Hello, Ada!"}'
took "second invoke (built)" "$t"

step "npm test (the handler's unit test on the host)"
t=$SECONDS
npm test >"$work/test.out" 2>&1 || { cat "$work/test.out"; exit 1; }
expect "$work/test.out" 'test tests::greets_by_name_or_the_world ... ok'
took "npm test" "$t"

step "npm run package (offline: serverless package)"
t=$SECONDS
npm run package >"$work/package.out" 2>&1 || { cat "$work/package.out"; exit 1; }
cat "$work/package.out"
for zip in build/lambda/demo.zip build/lambda/demo-native.zip; do
  [ -s "$zip" ] || { echo "user-flow: $zip missing" >&2; exit 1; }
done
[ -s .serverless/cloudformation-template-update-stack.json ] || { echo "user-flow: no CloudFormation template" >&2; exit 1; }
took "npm run package" "$t"

step "watch: edit → rebuild → the new answer"
t=$SECONDS
node "$repo/scripts/user-flow-watch.mjs" "$work/user/demo"
took "watch cycle" "$t"

step "new queue --template sqs → invoke --data-example sqs"
cd "$work/user"
# Where Debian's toolchain is installed too, this project builds with it (rustc-web and
# -Zbuild-std), so one run covers both routes a user's machine may take.
if dpkg -s rustc-web >/dev/null 2>&1; then
  export WASI_LAMBDA_TOOLCHAIN=debian
  echo "user-flow: this project builds with Debian's toolchain (WASI_LAMBDA_TOOLCHAIN=debian)"
fi
t=$SECONDS
npx wasi-lambda new queue --template sqs
cd queue
npm install --silent
npx wasi-lambda invoke --data-example sqs >"$work/sqs.out"
cat "$work/sqs.out"
expect "$work/sqs.out" '{"batchItemFailures":[]}'
took "new --template sqs → first invoke" "$t"

printf '\nuser-flow: all steps passed in %ss\n' "$(($SECONDS - started))"

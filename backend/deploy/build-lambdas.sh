#!/usr/bin/env bash
# Builds the three Lambda functions as `bootstrap` zips for provided.al2023 on arm64 with
# cargo-lambda (cross-linking through zig), into target/lambda/<function>/bootstrap.zip, where
# template.yaml's CodeUri points. Tools come from PyPI into the project's .venv; the Rust
# target comes from rustup.
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ ! -x .venv/bin/cargo-lambda ]; then
    python3 -m venv .venv
    .venv/bin/pip install --quiet --disable-pip-version-check cargo-lambda==1.9.2 ziglang==0.17.1
fi
rustup target add aarch64-unknown-linux-gnu >/dev/null
export PATH="$PWD/.venv/bin:$PATH"
cargo lambda build --release --arm64 --output-format zip -p mantissa-backend \
    --bin mantissa-detection --bin mantissa-delivery --bin mantissa-health
ls -l target/lambda/*/bootstrap.zip

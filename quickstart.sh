#!/usr/bin/env bash
# Quick start: build esesnap and its plugin into ./bin, back up the bundled
# synthetic ESE set (testdata/synth-small, made by ese/synth) through the real
# plugin process into a backup set, and verify the set offline: every hash,
# every page checksum, the log chain.
set -euo pipefail
cd "$(dirname "$0")"
mkdir -p bin
go build -o bin/ ./host/cmd/esesnap ./plugin/cmd/esesnap-plugin
out="$(mktemp -d)/set"
bin/esesnap backup --source testdata/synth-small --kind full --out "$out"
bin/esesnap verify "$out"

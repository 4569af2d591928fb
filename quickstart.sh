#!/usr/bin/env bash
# Quick start: build esesnap into ./bin and inspect the bundled synthetic ESE
# set (testdata/synth-small, made by ese/synth): every header, every page
# checksum, the log chain and the checkpoint.
set -euo pipefail
cd "$(dirname "$0")"
mkdir -p bin
go build -o bin/ ./host/cmd/esesnap
bin/esesnap inspect testdata/synth-small

#!/usr/bin/env bash
# Quick start: build esesnap and its plugin into ./bin, back up a real ESE
# instance made by Windows (by default ../shared/ese-samples/srum-win10-dirty:
# a dirty SRUM database, its logs and checkpoint) through the real plugin
# process into a backup set, and verify the set offline: every hash, every
# page checksum, the log chain. The source is opened read-only and is not
# changed. Usage: ./quickstart.sh [INSTANCE_DIR]
set -euo pipefail
cd "$(dirname "$0")"
src="${1:-../shared/ese-samples/srum-win10-dirty}"
if [[ ! -d "$src" ]]; then
	echo "quickstart: $src is missing: check the repository out beside shared/, or give an instance directory" >&2
	exit 2
fi
mkdir -p bin
go build -o bin/ ./host/cmd/esesnap ./plugin/cmd/esesnap-plugin
out="$(mktemp -d)/set"
bin/esesnap backup --source "$src" --kind full --out "$out"
bin/esesnap verify "$out"

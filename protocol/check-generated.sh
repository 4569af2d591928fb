#!/usr/bin/env bash
# check-generated.sh fails when the committed code in protocol/snapshotv1 is
# not what generate.sh produces from snapshot.proto (a stale or hand-edited
# file, a missing or extra file). It regenerates into a temporary directory
# and diffs; the repository is not touched. CI runs it.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

"$here/generate.sh" "$tmp"
if ! diff -ru "$tmp/protocol/snapshotv1" "$here/snapshotv1"; then
	echo "protocol/snapshotv1 is stale: run protocol/generate.sh and commit the result" >&2
	exit 1
fi
echo "protocol/snapshotv1 is up to date"

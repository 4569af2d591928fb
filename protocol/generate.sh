#!/usr/bin/env bash
# generate.sh lints protocol/snapshot/v1/snapshot.proto and regenerates its Go
# code in protocol/snapshotv1 with pinned tools:
#   buf                 $BUF_VERSION below;
#   protoc-gen-go       the google.golang.org/protobuf version in go.mod;
#   protoc-gen-go-grpc  the version in go.mod (its tool directive).
# The tools go to their own directory ($ESESNAP_TOOLBIN, by default
# ~/.cache/esesnap/tools/bin), so other versions on PATH or in GOPATH/bin are
# neither used nor replaced.
#
# Usage: protocol/generate.sh [OUTDIR]
# With OUTDIR the code is written below OUTDIR (OUTDIR/protocol/snapshotv1)
# instead of into the repository; check-generated.sh uses that.
set -euo pipefail

BUF_VERSION=v1.75.0

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
toolbin="${ESESNAP_TOOLBIN:-${XDG_CACHE_HOME:-$HOME/.cache}/esesnap/tools/bin}"
mkdir -p "$toolbin"
cd "$root"

# buf is large to build, so it is installed only when the pinned version is
# not there yet.
if [[ "$("$toolbin/buf" --version 2>/dev/null || true)" != "${BUF_VERSION#v}" ]]; then
	GOBIN="$toolbin" go install "github.com/bufbuild/buf/cmd/buf@$BUF_VERSION"
fi
# Without @version, go install builds the versions the module requires.
GOBIN="$toolbin" go install \
	google.golang.org/protobuf/cmd/protoc-gen-go \
	google.golang.org/grpc/cmd/protoc-gen-go-grpc
export PATH="$toolbin:$PATH"

buf lint
if [[ $# -gt 0 ]]; then
	buf generate --output "$1"
else
	buf generate
fi

#!/usr/bin/env bash
# Reproduces llm/embedded/bases/demo.safetensors, the demo base that ships
# with sia: DemoBase() pretrained on demo.Corpus(0) by tinylm as of commit
# d1371dd (before tinylm's own SGEMM kernel; vek32's products round
# differently). It is the base docs/demo.md and TestEachAlgorithmRaisesValReward
# measured (byte-identical to task/bundled/demo/testdata/base.safetensors),
# kept so that the demo behaves as documented. Exports that commit's tree
# (git archive; the repository is not touched), pretrains under GOMAXPROCS=2
# on it and compares the SHA-256 with the manifest. About 2 minutes on two
# quiet cores.
#
#   bash llm/embedded/internal/mkbase/legacy.sh
set -euo pipefail
cd "$(dirname "$0")/../../../.."
commit=d1371dd
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
git archive "$commit" | tar -x -C "$tmp/"
mkdir -p "$tmp/cmd/mkbase-legacy"
cat >"$tmp/cmd/mkbase-legacy/main.go" <<'GO'
package main

import (
	"context"
	"fmt"
	"os"
	"runtime"

	"github.com/sia-agent/sia/llm/embedded"
	"github.com/sia-agent/sia/task/bundled/demo"
)

func main() {
	runtime.GOMAXPROCS(2)
	corpus, err := embedded.EncodeCorpus(demo.Bundle().Corpus(0))
	if err != nil {
		panic(err)
	}
	_, path, err := embedded.BaseFor(context.Background(), "demo", corpus, embedded.DemoBase(), os.Args[1], nil)
	if err != nil {
		panic(err)
	}
	fmt.Println(path)
}
GO
path=$(cd "$tmp" && go run ./cmd/mkbase-legacy "$tmp/cache")
got=$(sha256sum "$path" | cut -d' ' -f1)
want=$(grep -A5 '"task": "demo"' llm/embedded/bases/manifest.json | grep '"sha256"' | cut -d'"' -f4)
echo "pretrained at $commit: sha256 $got"
echo "shipped:                sha256 $want"
[ "$got" = "$want" ] && echo "reproduced" || { echo "MISMATCH"; exit 1; }

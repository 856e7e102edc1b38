package bundled

import (
	"github.com/sia-agent/sia/task"
	"github.com/sia-agent/sia/task/bundled/cipher"
	ciphersplit "github.com/sia-agent/sia/task/bundled/cipher-split"
	"github.com/sia-agent/sia/task/bundled/demo"
	"github.com/sia-agent/sia/task/bundled/gpqa"
	"github.com/sia-agent/sia/task/bundled/lawbench"
	longcotchess "github.com/sia-agent/sia/task/bundled/longcot-chess"
	spaceship "github.com/sia-agent/sia/task/bundled/spaceship-titanic"
)

// bundles is the list of bundled tasks: one line each, in any order (the
// registry sorts them). Everything else that names the bundled tasks —
// `sia tasks`, the tests of this package — reads it through Registry.
var bundles = []func() *task.Bundle{
	cipher.Bundle,
	ciphersplit.Bundle,
	demo.Bundle,
	gpqa.Bundle,
	lawbench.Bundle,
	longcotchess.Bundle,
	spaceship.Bundle,
}

// Registry returns a new registry of every bundled task. Each call builds
// a fresh one; nothing is shared or registered globally.
func Registry() (*task.Registry, error) {
	out := make([]*task.Bundle, len(bundles))
	for i, b := range bundles {
		out[i] = b()
	}
	return task.NewRegistry(out...)
}

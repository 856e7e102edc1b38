package loop

import (
	"math"
	"math/rand/v2"
	"sort"

	"github.com/sia-agent/sia/task"
	"github.com/sia-agent/sia/trajectory"
)

// Sizes of the val slices: a confirmation slice smaller than
// minConfirmItems says too little to be worth holding out, and selection
// needs at least minSelectionItems to compare on.
const (
	minConfirmItems   = 4
	minSelectionItems = 4
	confirmSalt       = 0x636f6e6669726d // "confirm"
)

// splitVal divides the val items into the selection slice (what every
// rollout, comparison and agent during the search sees) and the
// confirmation slice (held out until the final incumbent is re-scored).
// The confirmation items are a seeded sample of round(frac·n) items, at
// least minConfirmItems; when val is too small to keep minSelectionItems
// beside them, or frac is 0, nothing is held out. Both keep val's order.
func splitVal(items []task.Item, frac float64, seed int64) (sel, conf []task.Item) {
	n := len(items)
	c := int(math.Round(frac * float64(n)))
	if frac > 0 {
		c = max(c, minConfirmItems)
	}
	if frac <= 0 || n-c < minSelectionItems {
		return items, nil
	}
	held := map[int]bool{}
	for _, i := range rand.New(rand.NewPCG(uint64(seed), confirmSalt)).Perm(n)[:c] {
		held[i] = true
	}
	for i, it := range items {
		if held[i] {
			conf = append(conf, it)
		} else {
			sel = append(sel, it)
		}
	}
	return sel, conf
}

// itemMeans is each item's mean reward over its samples (a failed sample
// counts 0), with the item ids in sorted order.
func itemMeans(trajs []trajectory.Trajectory) (ids []string, means map[string]float64) {
	sum, n := map[string]float64{}, map[string]int{}
	for _, t := range trajs {
		sum[t.Item] += t.Reward
		n[t.Item]++
	}
	means = make(map[string]float64, len(sum))
	for id, s := range sum {
		means[id] = s / float64(n[id])
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids, means
}

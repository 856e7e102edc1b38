package starlark

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/sia-agent/sia/harness"
)

func publicDir(t *testing.T, task string) string {
	t.Helper()
	for _, r := range []string{os.Getenv("SIA_DATA_DIR"), filepath.Join("..", "..", "..", "shared", "data")} {
		if r == "" {
			continue
		}
		if d := filepath.Join(r, task); isDir(d) {
			return d
		}
	}
	t.Skipf("no %s data (set SIA_DATA_DIR or place it in ../shared/data)", task)
	return ""
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}

// spaceshipHarness is the kind of harness the stdlib is for: feature
// engineering in Starlark, a GBT fitted in setup, scored on a carve of
// train.csv (here solve just reports the carve accuracy).
const spaceshipHarness = `
SPEND = ["RoomService", "FoodCourt", "ShoppingMall", "Spa", "VRDeck"]

def features(r, groups):
    cabin = r["Cabin"].split("/") if r["Cabin"] else [None, None, None]
    total = 0.0
    for s in SPEND:
        total += float(r[s]) if r[s] else 0.0
    f = {"HomePlanet": r["HomePlanet"], "CryoSleep": r["CryoSleep"], "Destination": r["Destination"],
         "Age": r["Age"], "VIP": r["VIP"], "Deck": cabin[0], "CabinNum": cabin[1], "Side": cabin[2],
         "GroupSize": groups[r["PassengerId"].split("_")[0]], "Total": total, "NoSpend": total == 0}
    for s in SPEND:
        f[s] = r[s]
    return f

def setup(ctx):
    rows = data.csv("train.csv")
    groups = {}
    for r in rows:
        g = r["PassengerId"].split("_")[0]
        groups[g] = groups.get(g, 0) + 1
    tr, va = ml.train_val_split(rows, val_frac=0.2, seed=1)
    m = ml.gbt([features(r, groups) for r in tr], [r["Transported"] for r in tr], n_estimators=300,
               learning_rate=0.05, max_depth=5, subsample=0.8, colsample=0.8, min_samples_leaf=10, seed=1)
    pred = m.predict([features(r, groups) for r in va])
    return ml.accuracy(pred, [r["Transported"] for r in va])

def solve(item, acc):
    return acc
`

func TestSpaceshipHarnessReachesTarget(t *testing.T) {
	if raceEnabled {
		t.Skip("real-data accuracy test skipped under -race (run without -race)")
	}
	dir := publicDir(t, "spaceship-titanic")
	start := time.Now()
	h, err := New(Config{}).LoadHarness(t.Context(), src(spaceshipHarness, nil), harness.Env{Public: os.DirFS(dir)})
	if err != nil {
		t.Fatal(err)
	}
	setup := time.Since(start)
	got, _, err := solve(t, h, item("x", nil))
	if err != nil {
		t.Fatal(err)
	}
	acc, err := strconv.ParseFloat(got, 64)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("spaceship carve accuracy %.4f; setup (read, features, 300-tree GBT, predict) %v", acc, setup)
	if acc < 0.79 {
		t.Errorf("carve accuracy %.4f, want >= 0.79", acc)
	}
}

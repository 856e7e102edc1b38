package ml

import (
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// dataDir finds the shared task data (SIA_DATA_DIR, else ../../shared/data
// relative to the module root); tests that need it skip when absent.
func dataDir(t testing.TB, task string) string {
	t.Helper()
	if _, bench := t.(*testing.B); raceEnabled && !bench {
		t.Skip("real-data accuracy tests are skipped under -race (run without -race)")
	}
	roots := []string{os.Getenv("SIA_DATA_DIR"), filepath.Join("..", "..", "shared", "data")}
	for _, r := range roots {
		if r == "" {
			continue
		}
		d := filepath.Join(r, task)
		if st, err := os.Stat(d); err == nil && st.IsDir() {
			return d
		}
	}
	t.Skipf("no %s data (set SIA_DATA_DIR or place it in ../shared/data)", task)
	return ""
}

func readCSV(t testing.TB, path string) (header []string, rows [][]string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	all, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	return all[0], all[1:]
}

// spaceshipTable engineers the usual features: cabin deck/number/side,
// passenger group size, total spend; the label is Transported.
func spaceshipTable(t testing.TB) (*Table, []string) {
	header, rows := readCSV(t, filepath.Join(dataDir(t, "spaceship-titanic"), "train.csv"))
	col := map[string]int{}
	for i, h := range header {
		col[h] = i
	}
	groups := map[string]int{}
	for _, r := range rows {
		groups[strings.Split(r[col["PassengerId"]], "_")[0]]++
	}
	spend := []string{"RoomService", "FoodCourt", "ShoppingMall", "Spa", "VRDeck"}
	tab := &Table{Names: []string{"HomePlanet", "CryoSleep", "Destination", "Age", "VIP", "Deck", "CabinNum", "Side", "GroupSize", "Total", "NoSpend"}}
	tab.Names = append(tab.Names, spend...)
	var y []string
	for _, r := range rows {
		deck, num, side := any(nil), any(nil), any(nil)
		if p := strings.Split(r[col["Cabin"]], "/"); len(p) == 3 {
			deck, num, side = p[0], p[1], p[2]
		}
		var total float64
		for _, s := range spend {
			v, _ := strconv.ParseFloat(r[col[s]], 64)
			total += v
		}
		cells := []any{r[col["HomePlanet"]], r[col["CryoSleep"]], r[col["Destination"]], r[col["Age"]], r[col["VIP"]],
			deck, num, side, float64(groups[strings.Split(r[col["PassengerId"]], "_")[0]]), total, total == 0}
		for _, s := range spend {
			cells = append(cells, r[col[s]])
		}
		tab.Rows = append(tab.Rows, cells)
		y = append(y, r[col["Transported"]])
	}
	return tab, y
}

func subTable(t *Table, idx []int) *Table {
	out := &Table{Names: t.Names, Rows: make([][]any, len(idx))}
	for i, j := range idx {
		out.Rows[i] = t.Rows[j]
	}
	return out
}

func pick[T any](xs []T, idx []int) []T {
	out := make([]T, len(idx))
	for i, j := range idx {
		out[i] = xs[j]
	}
	return out
}

func TestGBTSpaceshipCarve(t *testing.T) {
	tab, y := spaceshipTable(t)
	tr, va, err := TrainValSplit(len(y), 0.2, 1)
	if err != nil {
		t.Fatal(err)
	}
	m, err := FitGBTClassifier(t.Context(), subTable(tab, tr), pick(y, tr), GBTConfig{
		NEstimators: 300, LearningRate: 0.05, MaxDepth: 5, Subsample: 0.8, ColSample: 0.8, MinSamplesLeaf: 10, Seed: 1,
	})
	if err != nil {
		t.Fatal(err)
	}
	pred, err := m.Predict(subTable(tab, va))
	if err != nil {
		t.Fatal(err)
	}
	acc, _ := Accuracy(pred, pick(y, va))
	t.Logf("spaceship GBT carve accuracy %.4f on %d rows", acc, len(va))
	if acc < 0.79 {
		t.Errorf("spaceship carve accuracy %.4f, want >= 0.79", acc)
	}
}

// lawbenchData returns the labelled dev cases and the single-charge
// LawBench 3-3 items, labels mapped onto classes.json's bracket style.
func lawbenchData(t testing.TB) (devText, devLabel, extraText, extraLabel []string) {
	dir := dataDir(t, "lawbench")
	_, rows := readCSV(t, filepath.Join(dir, "dev.csv"))
	for _, r := range rows {
		devText = append(devText, r[1])
		devLabel = append(devLabel, r[2])
	}
	b, err := os.ReadFile(filepath.Join(dir, "classes.json"))
	if err != nil {
		t.Fatal(err)
	}
	var classes []string
	if err := json.Unmarshal(b, &classes); err != nil {
		t.Fatal(err)
	}
	plain := map[string]string{}
	for _, c := range classes {
		plain[strings.NewReplacer("[", "", "]", "").Replace(c)] = c
	}
	b, err = os.ReadFile(filepath.Join(dir, "lawbench_3-3.json"))
	if err != nil {
		t.Fatal(err)
	}
	var items []struct{ Question, Answer string }
	if err := json.Unmarshal(b, &items); err != nil {
		t.Fatal(err)
	}
	for _, it := range items {
		a := strings.TrimPrefix(it.Answer, "罪名:")
		if strings.Contains(a, ";") {
			continue
		}
		c, ok := plain[a]
		if !ok {
			continue
		}
		extraText = append(extraText, strings.TrimPrefix(it.Question, "事实:"))
		extraLabel = append(extraLabel, c)
	}
	return devText, devLabel, extraText, extraLabel
}

func TestSVMLawbenchDev(t *testing.T) {
	devText, devLabel, extraText, extraLabel := lawbenchData(t)
	tr, va, err := TrainValSplit(len(devText), 0.5, 3)
	if err != nil {
		t.Fatal(err)
	}
	texts := append(pick(devText, tr), extraText...)
	labels := append(pick(devLabel, tr), extraLabel...)
	ctx := t.Context()
	vec, err := FitTFIDF(ctx, texts, TFIDFConfig{Analyzer: "char", NGramLo: 1, NGramHi: 2, SublinearTF: true})
	if err != nil {
		t.Fatal(err)
	}
	x, _ := vec.Transform(ctx, texts)
	m, err := FitSVM(ctx, x, labels, SVMConfig{C: 3, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	xv, _ := vec.Transform(ctx, pick(devText, va))
	acc, _ := Accuracy(m.Predict(xv), pick(devLabel, va))
	t.Logf("lawbench SVM: %d train docs, vocab %d, held-out dev accuracy %.4f on %d", len(texts), vec.Dim(), acc, len(va))
	// Measured 0.44 on this split (0.45 averaged over three splits, char
	// 1-2 grams, C=3; 1-3 grams scored 0.41, 2-4 grams 0.33). The bound is
	// the test target; the majority class alone scores under 0.1.
	if acc < 0.40 {
		t.Errorf("lawbench held-out dev accuracy %.4f, want >= 0.40", acc)
	}
}

// BenchmarkGBTSpaceship times the spaceship-titanic GBT fit (300 trees,
// depth 5, ~6.3k rows).
func BenchmarkGBTSpaceship(b *testing.B) {
	tab, y := spaceshipTable(b)
	tr, _, _ := TrainValSplit(len(y), 0.2, 1)
	sub, ys := subTable(tab, tr), pick(y, tr)
	cfg := GBTConfig{NEstimators: 300, LearningRate: 0.05, MaxDepth: 5, Subsample: 0.8, ColSample: 0.8, MinSamplesLeaf: 10, Seed: 1}
	b.ResetTimer()
	for b.Loop() {
		if _, err := FitGBTClassifier(b.Context(), sub, ys, cfg); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSVMLawbench times TF-IDF (char 1-2 grams) plus the linear SVM
// on the lawbench training docs (dev + LawBench 3-3 single-charge).
func BenchmarkSVMLawbench(b *testing.B) {
	devText, devLabel, extraText, extraLabel := lawbenchData(b)
	texts := append(slices.Clone(devText), extraText...)
	labels := append(slices.Clone(devLabel), extraLabel...)
	for b.Loop() {
		vec, err := FitTFIDF(b.Context(), texts, TFIDFConfig{Analyzer: "char", NGramLo: 1, NGramHi: 2, SublinearTF: true})
		if err != nil {
			b.Fatal(err)
		}
		x, _ := vec.Transform(b.Context(), texts)
		if _, err := FitSVM(b.Context(), x, labels, SVMConfig{C: 3, Seed: 1}); err != nil {
			b.Fatal(err)
		}
	}
}

package data

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/sia-agent/sia/task/bundled/lawbench"
	longcotchess "github.com/sia-agent/sia/task/bundled/longcot-chess"
)

// ImportOptions configure Import. The zero value uses the documented
// defaults.
type ImportOptions struct {
	// Seed drives the held-out carves and the generated chess questions
	// (default 1). The same seed always gives the same layout.
	Seed int64
	// Tasks limits the import to these tasks (default: every task found).
	Tasks []string
	// ChessKnight and ChessMoves size the generated held-out chess
	// questions added to the 4 LongCoT examples (defaults 30 and 16).
	ChessKnight, ChessMoves int
}

func (o *ImportOptions) applyDefaults() {
	if o.Seed == 0 {
		o.Seed = 1
	}
	if o.ChessKnight == 0 {
		o.ChessKnight = 30
	}
	if o.ChessMoves == 0 {
		o.ChessMoves = 16
	}
}

// ErrNoData is returned when the source folder holds no task Import knows.
var ErrNoData = errors.New("no task data found")

// Import lays out SIA_DATA_DIR (root) from a local copy in src shaped like
// the project's shared/data: src/<task>/<files>. Each task folder is built
// in a temporary folder and renamed into place, so a failed import leaves
// the previous layout intact. A folder already in SIA's layout
// (src/<task>/public, src/<task>/private) is copied as it is.
func Import(ctx context.Context, src, root string, opt ImportOptions) ([]*Report, error) {
	opt.applyDefaults()
	importers := map[string]func(context.Context, string, string, ImportOptions) (*Report, error){
		"spaceship-titanic": importSpaceship,
		"lawbench":          importLawbench,
		"longcot-chess":     importChess,
		"gpqa":              importGPQA,
	}
	names := opt.Tasks
	if len(names) == 0 {
		for n := range importers {
			if isDir(filepath.Join(src, n)) {
				names = append(names, n)
			}
		}
		sort.Strings(names)
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("import %s: %w (want folders named %v)", src, ErrNoData, Tasks())
	}
	var reps []*Report
	for _, n := range names {
		imp, ok := importers[n]
		if !ok {
			return reps, fmt.Errorf("import: unknown task %q (known: %v)", n, Tasks())
		}
		if err := ctx.Err(); err != nil {
			return reps, err
		}
		from := filepath.Join(src, n)
		if !isDir(from) {
			return reps, fmt.Errorf("import %s: %s is not a folder", n, from)
		}
		final := filepath.Join(root, n)
		if err := os.MkdirAll(root, 0o755); err != nil {
			return reps, err
		}
		tmp, err := os.MkdirTemp(root, "."+n+".import-*")
		if err != nil {
			return reps, err
		}
		var rep *Report
		if isDir(filepath.Join(from, "public")) && isDir(filepath.Join(from, "private")) {
			rep, err = copyLayout(from, tmp, n)
		} else {
			rep, err = imp(ctx, from, tmp, opt)
		}
		if err == nil {
			err = replaceDir(tmp, final)
		}
		if err != nil {
			os.RemoveAll(tmp)
			return reps, fmt.Errorf("import %s: %w", n, err)
		}
		rep.Dir = final
		reps = append(reps, rep)
	}
	return reps, nil
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}

// replaceDir moves tmp to final, replacing what was there.
func replaceDir(tmp, final string) error {
	old := ""
	if isDir(final) {
		old = final + ".old"
		os.RemoveAll(old)
		if err := os.Rename(final, old); err != nil {
			return err
		}
	}
	if err := os.Rename(tmp, final); err != nil {
		if old != "" {
			_ = os.Rename(old, final)
		}
		return err
	}
	if old != "" {
		return os.RemoveAll(old)
	}
	return nil
}

func copyLayout(from, to, task string) (*Report, error) {
	rep := &Report{Task: task, Notes: []string{"copied as it is (already in SIA's public/private layout)"}}
	err := filepath.WalkDir(from, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rep.Files = append(rep.Files, FileReport{File: filepath.ToSlash(rel), SHA256: sha(b)})
		return writeFile(filepath.Join(to, rel), b)
	})
	return rep, err
}

// --- spaceship-titanic -------------------------------------------------

func importSpaceship(_ context.Context, from, to string, opt ImportOptions) (*Report, error) {
	head, rows, err := readCSV(filepath.Join(from, "train.csv"))
	if err != nil {
		return nil, err
	}
	idc, labc := index(head, "PassengerId"), index(head, "Transported")
	if idc < 0 || labc < 0 {
		return nil, fmt.Errorf("train.csv: want PassengerId and Transported columns")
	}
	testIdx := carve(len(rows), 0.1, opt.Seed, 0x5ace)
	var train, test [][]string
	for i, r := range rows {
		if testIdx[i] {
			test = append(test, r)
		} else {
			train = append(train, r)
		}
	}
	pubHead := dropCol(head, labc)
	pubTest := make([][]string, len(test))
	gold := make([][]string, len(test))
	sample := make([][]string, len(test))
	for i, r := range test {
		pubTest[i] = dropCol(r, labc)
		gold[i] = []string{r[idc], r[labc]}
		sample[i] = []string{r[idc], "False"}
	}
	rep := &Report{Task: "spaceship-titanic"}
	for _, f := range []struct {
		name string
		head []string
		rows [][]string
	}{
		{"public/train.csv", head, train},
		{"public/test.csv", pubHead, pubTest},
		{"public/sample_submission.csv", []string{"PassengerId", "Transported"}, sample},
		{"private/test.csv", []string{"PassengerId", "Transported"}, gold},
	} {
		if err := writeCSV(to, f.name, f.head, f.rows, rep); err != nil {
			return nil, err
		}
	}
	rep.Notes = append(rep.Notes,
		fmt.Sprintf("test split: a seeded 10%% carve (seed %d) of train.csv, %d passengers; their labels are only in private/test.csv", opt.Seed, len(test)),
		fmt.Sprintf("public/train.csv keeps the other %d labelled passengers", len(train)),
		"the source's unlabelled test.csv is not used: its labels are not public")
	return rep, nil
}

// --- lawbench ----------------------------------------------------------

type lawCase struct{ id, text, label string }

func importLawbench(_ context.Context, from, to string, opt ImportOptions) (*Report, error) {
	classesRaw, err := os.ReadFile(filepath.Join(from, "classes.json"))
	if err != nil {
		return nil, err
	}
	var classes []string
	if err := json.Unmarshal(classesRaw, &classes); err != nil {
		return nil, fmt.Errorf("classes.json: %w", err)
	}
	byPlain := map[string]string{}
	for _, c := range classes {
		byPlain[lawbench.NormalizeCharge(c)] = c
	}
	head, rows, err := readCSV(filepath.Join(from, "dev.csv"))
	if err != nil {
		return nil, err
	}
	ic, tc, lc := index(head, "id"), index(head, "text"), index(head, "label")
	if ic < 0 || tc < 0 || lc < 0 {
		return nil, fmt.Errorf("dev.csv: want id,text,label columns")
	}
	var cases []lawCase
	for _, r := range rows {
		cases = append(cases, lawCase{r[ic], r[tc], r[lc]})
	}
	nDev := len(cases)
	added, multi, unmapped := 0, 0, 0
	if b, err := os.ReadFile(filepath.Join(from, "lawbench_3-3.json")); err == nil {
		var items []struct {
			Question string `json:"question"`
			Answer   string `json:"answer"`
		}
		if err := json.Unmarshal(b, &items); err != nil {
			return nil, fmt.Errorf("lawbench_3-3.json: %w", err)
		}
		for i, it := range items {
			ans := strings.TrimSpace(strings.TrimPrefix(strings.TrimPrefix(it.Answer, "罪名:"), "罪名："))
			if strings.ContainsAny(ans, ";；") {
				multi++
				continue
			}
			c, ok := byPlain[lawbench.NormalizeCharge(ans)]
			if !ok {
				c, ok = byPlain[lawbench.NormalizeCharge(strings.TrimSuffix(ans, "罪"))]
			}
			if !ok {
				unmapped++
				continue
			}
			facts := strings.TrimSpace(it.Question)
			facts = strings.TrimSpace(strings.TrimPrefix(strings.TrimPrefix(facts, "事实:"), "事实："))
			cases = append(cases, lawCase{fmt.Sprintf("lb33_%d", i+1), facts, c})
			added++
		}
	}
	testIdx := carve(len(cases), 0.2, opt.Seed, 0x1a3b)
	var train, pubTest, gold [][]string
	for i, c := range cases {
		if testIdx[i] {
			pubTest = append(pubTest, []string{c.id, c.text})
			gold = append(gold, []string{c.id, c.label})
		} else {
			train = append(train, []string{c.id, c.text, c.label})
		}
	}
	rep := &Report{Task: "lawbench"}
	if err := writeCSV(to, "public/train.csv", []string{"id", "text", "label"}, train, rep); err != nil {
		return nil, err
	}
	if err := writeCSV(to, "public/test.csv", []string{"id", "text"}, pubTest, rep); err != nil {
		return nil, err
	}
	if err := writeCSV(to, "private/test.csv", []string{"id", "label"}, gold, rep); err != nil {
		return nil, err
	}
	if err := writeFile(filepath.Join(to, "public/classes.json"), classesRaw); err != nil {
		return nil, err
	}
	rep.Files = append(rep.Files, FileReport{File: "public/classes.json", SHA256: sha(classesRaw)})
	rep.Notes = append(rep.Notes,
		fmt.Sprintf("pool: %d dev cases + %d single-charge LawBench 3-3 items (brackets normalised to classes.json); %d multi-charge and %d unmappable 3-3 items left out", nDev, added, multi, unmapped),
		fmt.Sprintf("test split: a seeded 20%% carve (seed %d) of the pool, %d cases, labels only in private/test.csv; public/train.csv has the other %d", opt.Seed, len(gold), len(train)),
		"SIA's full 5,332-case train.csv and 913-case test set are not in this copy: `sia data pull lawbench` fetches them")
	return rep, nil
}

// --- longcot-chess -----------------------------------------------------

func importChess(ctx context.Context, from, to string, opt ImportOptions) (*Report, error) {
	b, err := os.ReadFile(filepath.Join(from, "examples.json"))
	if err != nil {
		return nil, err
	}
	var real []longcotchess.Item
	if err := json.Unmarshal(b, &real); err != nil {
		return nil, fmt.Errorf("examples.json: %w", err)
	}
	held, err := longcotchess.Generate(ctx, longcotchess.GenOptions{Seed: opt.Seed + 1000, KnightItems: opt.ChessKnight, MoveItems: opt.ChessMoves, Prefix: "heldout"})
	if err != nil {
		return nil, err
	}
	all := append(real, held...)
	public := make([]longcotchess.Item, len(all))
	answers := make([]map[string]json.RawMessage, len(all))
	for i, it := range all {
		if len(it.Answer) == 0 {
			return nil, fmt.Errorf("examples.json: %s has no answer", it.ID)
		}
		id, _ := json.Marshal(it.ID)
		answers[i] = map[string]json.RawMessage{"question_id": id, "answer": it.Answer}
		it.Answer = nil
		public[i] = it
	}
	rep := &Report{Task: "longcot-chess"}
	for name, v := range map[string]any{"public/chess_hard.json": public, "private/answers.json": answers} {
		if err := writeJSON(filepath.Join(to, name), v); err != nil {
			return nil, err
		}
		rep.Files = append(rep.Files, FileReport{File: name})
	}
	n, err := writeChessTrain(ctx, to, opt.Seed)
	if err != nil {
		return nil, err
	}
	rep.Files = append(rep.Files, FileReport{File: "public/train.json"})
	rep.Notes = append(rep.Notes,
		fmt.Sprintf("test split: LongCoT's %d published examples + %d generated knight_path (16 targets, proven optimal) + %d generated best_3_moves (unique forced mate in two) questions, answers only in private/answers.json", len(real), opt.ChessKnight, opt.ChessMoves),
		fmt.Sprintf("public/train.json: %d generated labelled questions (another seed); val is carved from it", n),
		"LongCoT's full 50-question hard set is not in this copy: `sia data pull longcot-chess` fetches it")
	return rep, nil
}

// --- gpqa -------------------------------------------------------------

func importGPQA(_ context.Context, from, to string, _ ImportOptions) (*Report, error) {
	pub := filepath.Join(from, "diamond_questions.json")
	if _, err := os.Stat(pub); err != nil {
		return nil, fmt.Errorf("no GPQA questions in %s (GPQA is not redistributable: run `sia data pull gpqa` with a HuggingFace token)", from)
	}
	return nil, fmt.Errorf("%s: a single diamond_questions.json cannot be split into public and private files; lay it out as public/ and private/ as SIA does", pub)
}

// --- helpers ----------------------------------------------------------

// carve picks round(frac·n) of n rows by a seeded shuffle.
func carve(n int, frac float64, seed int64, stream uint64) map[int]bool {
	k := int(float64(n)*frac + 0.5)
	idx := rand.New(rand.NewPCG(uint64(seed), stream)).Perm(n)[:k]
	out := make(map[int]bool, k)
	for _, i := range idx {
		out[i] = true
	}
	return out
}

func readCSV(path string) ([]string, [][]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	recs, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(b, []byte("\xef\xbb\xbf")))).ReadAll()
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", filepath.Base(path), err)
	}
	if len(recs) < 2 {
		return nil, nil, fmt.Errorf("%s: no rows", filepath.Base(path))
	}
	return recs[0], recs[1:], nil
}

func writeCSV(dir, name string, head []string, rows [][]string, rep *Report) error {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	if err := w.Write(head); err != nil {
		return err
	}
	if err := w.WriteAll(rows); err != nil {
		return err
	}
	if err := writeFile(filepath.Join(dir, name), buf.Bytes()); err != nil {
		return err
	}
	rep.Files = append(rep.Files, FileReport{File: name, SHA256: sha(buf.Bytes())})
	return nil
}

func index(head []string, name string) int {
	for i, h := range head {
		if strings.TrimSpace(h) == name {
			return i
		}
	}
	return -1
}

func dropCol(r []string, c int) []string {
	out := make([]string, 0, len(r)-1)
	out = append(out, r[:c]...)
	return append(out, r[c+1:]...)
}

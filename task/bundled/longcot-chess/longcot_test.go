package longcotchess

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/sia-agent/sia/chess"
	"github.com/sia-agent/sia/task"
	"github.com/sia-agent/sia/verify"
)

func TestParseAnswer(t *testing.T) {
	tests := []struct {
		in      string
		isInt   bool
		n       int64
		moves   []string
		wantErr bool
	}{
		{in: "218", isInt: true, n: 218},
		{in: "solution = 218", isInt: true, n: 218},
		{in: "I think...\nsolution = 217\nno wait\nsolution = 218", isInt: true, n: 218},
		{in: "218.0", isInt: true, n: 218},
		{in: "0218", isInt: true, n: 218},
		{in: `solution = ["c4", "bxc4", "bxc4"]`, moves: []string{"c4", "bxc4", "bxc4"}},
		{in: `solution = ['Kg4', 'Kb3', 'Kh3']`, moves: []string{"Kg4", "Kb3", "Kh3"}},
		{in: "solution = [c4, bxc4, bxc4]", moves: []string{"c4", "bxc4", "bxc4"}},
		{in: `["Qc8+","Ka7","Rc7#"]`, moves: []string{"Qc8+", "Ka7", "Rc7#"}},
		{in: "Qc8+ Ka7 Rc7#", moves: []string{"Qc8+", "Ka7", "Rc7#"}},
		{in: "solution = [O-O, e5, Nf3]", moves: []string{"O-O", "e5", "Nf3"}},
		{in: "", wantErr: true},
		{in: "solution = ", wantErr: true},
		{in: "I do not know", wantErr: true},
		{in: "solution = [1, {}]", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			a, err := ParseAnswer(tc.in)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tc.wantErr)
			}
			if tc.wantErr {
				return
			}
			if a.IsInt != tc.isInt || a.Int != tc.n || len(a.Moves) != len(tc.moves) {
				t.Fatalf("got %+v", a)
			}
			for i := range tc.moves {
				if a.Moves[i] != tc.moves[i] {
					t.Fatalf("got %+v", a)
				}
			}
		})
	}
}

func TestScoreItem(t *testing.T) {
	tests := []struct {
		name, answer, gold, status string
	}{
		{"knight exact", "solution = 218", "218", verify.StatusCorrect},
		{"knight as integer", "218.0", "218", verify.StatusCorrect},
		{"knight off by one", "217", "218", verify.StatusWrong},
		{"knight given moves", "[e4, e5, Nf3]", "218", verify.StatusInvalid},
		{"moves exact", `solution = ["c4", "bxc4", "bxc4"]`, `["c4","bxc4","bxc4"]`, verify.StatusCorrect},
		{"suffixes stripped", "solution = [Qc8, Ka7, Rc7]", `["Qc8+","Ka7","Rc7#"]`, verify.StatusCorrect},
		{"annotations stripped", "[Qc8+!, Ka7?, Rc7#!!]", `["Qc8+","Ka7","Rc7#"]`, verify.StatusCorrect},
		{"order matters", "[bxc4, c4, bxc4]", `["c4","bxc4","bxc4"]`, verify.StatusWrong},
		{"too few moves", "[c4, bxc4]", `["c4","bxc4","bxc4"]`, verify.StatusWrong},
		{"moves given integer", "solution = 3", `["c4","bxc4","bxc4"]`, verify.StatusInvalid},
		{"unreadable", "hmm", "218", verify.StatusInvalid},
		{"bad gold", "218", "", verify.StatusError},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := (Scorer{}).ScoreItem("q", tc.answer, tc.gold); got.Status != tc.status {
				t.Fatalf("status %q (%s), want %q", got.Status, got.Detail, tc.status)
			}
		})
	}
}

func TestParseSubmission(t *testing.T) {
	body := `[
	 {"question_id": "knight_path_hard_1", "prompt": "p", "solution": 218, "success": true},
	 {"question_id": "best_3_moves_hard_1", "solution": ["c4", "bxc4", "Kd5"]},
	 {"question_id": "best_3_moves_hard_3", "solution": null, "success": false},
	 {"question_id": "x", "solution": "solution = 5"}
	]`
	got, err := ParseSubmission("responses.json", []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"knight_path_hard_1": "218", "best_3_moves_hard_1": `["c4","bxc4","Kd5"]`, "best_3_moves_hard_3": "", "x": "solution = 5"}
	for k, v := range want {
		if got[k] != v {
			t.Fatalf("%s: got %q, want %q", k, got[k], v)
		}
	}
	if _, err := ParseSubmission("responses.json", []byte(`[{"solution": 3}]`)); err == nil {
		t.Fatal("want an error for a response without question_id")
	}
	obj, err := ParseSubmission("answers.json", []byte(`{"knight_path_hard_1": 218}`))
	if err != nil || obj["knight_path_hard_1"] != "218" {
		t.Fatalf("object form: %v %v", obj, err)
	}
}

func TestGenerateIsExactAndDeterministic(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: searches knight tours exactly; .ci/run runs it")
	}
	a, err := Generate(t.Context(), GenOptions{Seed: 5, KnightItems: 2, MoveItems: 4, Targets: 10})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Generate(t.Context(), GenOptions{Seed: 5, KnightItems: 2, MoveItems: 4, Targets: 10})
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	if string(ja) != string(jb) {
		t.Fatal("same seed, different items")
	}
	for _, it := range a {
		if it.Problem.Template != Best3Moves {
			continue
		}
		// Replay the line: each move legal, the last one mates, and the
		// first move is the only mate in two.
		fen := it.Prompt[len("You are given a chess position using this FEN: "):]
		fen = fen[:len(fen)-len(MovesPrompt(""))+len("You are given a chess position using this FEN: ")]
		p, err := chess.ParseFEN(fen)
		if err != nil {
			t.Fatalf("%s: %v", it.ID, err)
		}
		var line []string
		if err := json.Unmarshal(it.Answer, &line); err != nil || len(line) != 3 {
			t.Fatalf("%s: answer %s", it.ID, it.Answer)
		}
		q := p
		for _, san := range line {
			m, err := q.ParseSAN(san)
			if err != nil {
				t.Fatalf("%s: %v", it.ID, err)
			}
			if q, err = q.Play(m); err != nil {
				t.Fatalf("%s: %v", it.ID, err)
			}
		}
		if q.Status() != chess.Checkmate {
			t.Fatalf("%s: line %v does not mate", it.ID, line)
		}
		res, err := chess.Search(t.Context(), p, chess.Limits{Depth: 4})
		if err != nil {
			t.Fatal(err)
		}
		if best, err := p.SAN(res.Best); err != nil || res.Mate != 2 || best != line[0] {
			t.Fatalf("%s: engine says %v mate %d, generated %v", it.ID, res.PV, res.Mate, line)
		}
	}
}

func TestVerifySubmission(t *testing.T) {
	root := t.TempDir()
	train, _ := Generate(t.Context(), GenOptions{Seed: 1, KnightItems: 4, Targets: 6, Prefix: "train"})
	test := []Item{
		{ID: "knight_path_hard_1", Prompt: "p", Problem: Problem{KnightPath}, Answer: json.RawMessage(`"218"`)},
		{ID: "knight_path_hard_2", Prompt: "p", Problem: Problem{KnightPath}, Answer: json.RawMessage(`"218"`)},
		{ID: "best_3_moves_hard_1", Prompt: "p", Problem: Problem{Best3Moves}, Answer: json.RawMessage(`["c4","bxc4","bxc4"]`)},
		{ID: "best_3_moves_hard_2", Prompt: "p", Problem: Problem{Best3Moves}, Answer: json.RawMessage(`["Kg4","Kb3","Kh3"]`)},
	}
	public := make([]Item, len(test))
	answers := make([]map[string]any, len(test))
	for i, it := range test {
		public[i] = it
		public[i].Answer = nil
		answers[i] = map[string]any{"question_id": it.ID, "answer": it.Answer}
	}
	for name, v := range map[string]any{"public/train.json": train, "public/chess_hard.json": public, "private/answers.json": answers} {
		p := filepath.Join(root, Name, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(v)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	reg, _ := task.NewRegistry(Bundle())
	tk, err := reg.Open(Name, task.Options{DataRoot: root})
	if err != nil {
		t.Fatal(err)
	}
	ds, err := tk.Load(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(ds.Train) != 3 || len(ds.Items(task.Val)) != 1 {
		t.Fatalf("train %d val %d, want 3 and 1", len(ds.Train), len(ds.Items(task.Val)))
	}
	sub := `[
	 {"question_id": "knight_path_hard_1", "solution": 218},
	 {"question_id": "knight_path_hard_2", "solution": 220},
	 {"question_id": "best_3_moves_hard_1", "solution": ["c4", "bxc4+", "bxc4"]}
	]`
	parsed, err := tk.ParseSubmission("responses.json", []byte(sub))
	if err != nil {
		t.Fatal(err)
	}
	v, _ := tk.Verifier(task.Test)
	res, err := v.Verify(t.Context(), parsed, ds.Gold(task.Test))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{"accuracy": 0.5, "accuracy_knight_path": 0.5, "accuracy_best_3_moves": 0.5,
		"sia_accuracy_percent": 100 * 2.0 / 3.0, "correct": 2, "total": 4}
	for k, w := range want {
		if got := res.Metrics[k]; got != w {
			t.Errorf("%s = %v, want %v", k, got, w)
		}
	}
	if res.Counts[verify.StatusMissing] != 1 || res.Counts[verify.StatusWrong] != 1 {
		t.Fatalf("counts %v", res.Counts)
	}
}

func TestGeneratedLinesMatchStockfish(t *testing.T) {
	if _, err := os.Stat(chess.DefaultStockfish); err != nil {
		t.Skipf("stockfish is not installed at %s: skipping the cross-check", chess.DefaultStockfish)
	}
	items, err := Generate(t.Context(), GenOptions{Seed: 9, MoveItems: 3})
	if err != nil {
		t.Fatal(err)
	}
	e, err := chess.StartUCI(t.Context(), chess.DefaultStockfish)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	for _, it := range items {
		fen := it.Prompt[len("You are given a chess position using this FEN: "):]
		fen = fen[:len(fen)-len(MovesPrompt(""))+len("You are given a chess position using this FEN: ")]
		p, _ := chess.ParseFEN(fen)
		res, err := e.Analyse(t.Context(), p, 18) // shallower depths can prefer a longer mate
		if err != nil {
			t.Fatal(err)
		}
		san, _ := p.LineSAN(res.PV[:min(3, len(res.PV))])
		var want []string
		_ = json.Unmarshal(it.Answer, &want)
		if len(san) != 3 || san[0] != want[0] || san[1] != want[1] || san[2] != want[2] {
			t.Fatalf("%s: stockfish %v, generated %v", it.ID, san, want)
		}
	}
}

// TestLongCoTExampleLines replays the answers of LongCoT's best_3_moves
// examples (shared data) through the chess package: each move reads, is
// legal, and the library writes it back as the same SAN.
func TestLongCoTExampleLines(t *testing.T) {
	path := filepath.Join("..", "..", "..", "..", "shared", "data", Name, "examples.json")
	if d := os.Getenv("SIA_DATA_DIR"); d != "" {
		path = filepath.Join(d, Name, "examples.json")
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Skipf("no LongCoT examples (%v; set SIA_DATA_DIR or place the data in ../shared/data): skipping", err)
	}
	var items []Item
	if err := json.Unmarshal(b, &items); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, it := range items {
		if it.Problem.Template != Best3Moves {
			continue
		}
		n++
		fen := it.Prompt[len("You are given a chess position using this FEN: "):]
		fen = fen[:len(fen)-len(MovesPrompt(""))+len("You are given a chess position using this FEN: ")]
		p, err := chess.ParseFEN(fen)
		if err != nil {
			t.Fatalf("%s: %v", it.ID, err)
		}
		var line []string
		if err := json.Unmarshal(it.Answer, &line); err != nil || len(line) != 3 {
			t.Fatalf("%s: answer %s", it.ID, it.Answer)
		}
		for _, san := range line {
			m, err := p.ParseSAN(san)
			if err != nil {
				t.Fatalf("%s: %v", it.ID, err)
			}
			if back, err := p.SAN(m); err != nil || chess.StripSANSuffix(back) != chess.StripSANSuffix(san) {
				t.Fatalf("%s: %q reads as %s, written back as %q (%v)", it.ID, san, m, back, err)
			}
			if p, err = p.Play(m); err != nil {
				t.Fatalf("%s: %v", it.ID, err)
			}
		}
	}
	if n == 0 {
		t.Fatal("no best_3_moves items in examples.json")
	}
}

// BenchmarkGenerateMoves times the exhaustive mate-in-two generator (four
// best_3_moves questions), the heaviest user of the chess package here.
func BenchmarkGenerateMoves(b *testing.B) {
	for b.Loop() {
		if _, err := Generate(b.Context(), GenOptions{Seed: 5, MoveItems: 4}); err != nil {
			b.Fatal(err)
		}
	}
}

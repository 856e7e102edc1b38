package longcotchess_test

import (
	"strings"
	"testing"

	"github.com/sia-agent/sia/harness"
	"github.com/sia-agent/sia/harness/starlark"
	"github.com/sia-agent/sia/llm/llmtest"
	"github.com/sia-agent/sia/task"
	longcotchess "github.com/sia-agent/sia/task/bundled/longcot-chess"
	"github.com/sia-agent/sia/trajectory"
)

// The stdlib chess module, exercised through the Starlark runtime.
func TestChessModule(t *testing.T) {
	src := `
def solve(item):
    q = item["q"]
    if q == "legal":
        return ",".join(sorted(chess.legal_moves("4k3/8/8/8/8/8/8/4K2R w K - 0 1")))
    if q == "play":
        return chess.play("rnbqkbnr/pppppppp/8/8/8/8/PPPPPPPP/RNBQKBNR w KQkq - 0 1", "e2e4")
    if q == "san":
        return chess.san("4k3/8/8/8/8/8/8/4K2R w K - 0 1", "e1g1")
    if q == "status":
        return chess.status("R6k/8/6K1/8/8/8/8/8 b - - 0 1")
    if q == "search":
        r = chess.search("7k/8/8/8/8/8/R7/1R4K1 w - - 0 1", depth = 5)
        return "%s mate=%d" % (" ".join(r.pv), r.mate)
    if q == "line":
        return " ".join(chess.best_line("7k/8/8/8/8/8/R7/1R4K1 w - - 0 1", plies = 3, engine = "builtin", depth = 5))
    if q == "knight":
        p = chess.knight_parse(item["prompt"])
        d = chess.knight_distances(p.n, p.start, p.targets)
        tour = chess.knight_tour(p.n, p.start, p.targets)
        return "%d %d %d %s" % (len(d), d[0][1], tour.moves, tour.exact)
    if q == "bad_fen":
        return chess.legal_moves("not a fen")
    if q == "illegal":
        return chess.play("4k3/8/8/8/8/8/8/4K3 w - - 0 1", "Qd1")
    return ""
`
	rt := starlark.New(starlark.Config{})
	h, err := rt.Load(t.Context(), harness.Source{Name: "t.star", Code: []byte(src)}, harness.Env{})
	if err != nil {
		t.Fatal(err)
	}
	prompt := "There is a chess board of size 8x8 … Starting Position: (0, 0)\nTarget Squares: [(1, 2), (0, 0)]"
	tests := []struct {
		q, want, wantErr string
	}{
		{q: "legal", want: "Kd1,Kd2,Ke2,Kf1,Kf2,O-O,Rf1,Rg1,Rh2,Rh3,Rh4,Rh5,Rh6,Rh7,Rh8+"},
		{q: "play", want: "rnbqkbnr/pppppppp/8/8/4P3/8/PPPP1PPP/RNBQKBNR b KQkq e3 0 1"},
		{q: "san", want: "O-O"},
		{q: "status", want: "checkmate"},
		{q: "search", want: "Rb7 Kg8 Ra8# mate=2"},
		{q: "line", want: "Rb7 Kg8 Ra8#"},
		{q: "knight", want: "3 1 1 True"},
		{q: "bad_fen", wantErr: "chess.legal_moves"},
		{q: "illegal", wantErr: "not legal"},
	}
	for _, tc := range tests {
		t.Run(tc.q, func(t *testing.T) {
			got, err := h.Solve(t.Context(), task.Item{ID: tc.q, Fields: map[string]any{"q": tc.q, "prompt": prompt}}, harness.Sample{Rec: trajectory.NewRecorder()})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// Each knight_solver variant of the reference harness answers a generated
// question exactly (the model variant needs a model and is left out).
func TestReferenceKnightVariants(t *testing.T) {
	items, err := longcotchess.Generate(t.Context(), longcotchess.GenOptions{Seed: 3, KnightItems: 2, Targets: 9})
	if err != nil {
		t.Fatal(err)
	}
	src, err := longcotchess.Bundle().Files.(interface{ ReadFile(string) ([]byte, error) }).ReadFile("reference/harness.star")
	if err != nil {
		t.Fatal(err)
	}
	rt := starlark.New(starlark.Config{})
	for _, solver := range []string{"builtin", "starlark"} {
		h, err := rt.Load(t.Context(), harness.Source{Name: "harness.star", Code: src, Knobs: map[string]any{"knight_solver": solver, "restarts": 8}}, harness.Env{})
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range items {
			got, err := h.Solve(t.Context(), task.Item{ID: it.ID, Fields: map[string]any{"prompt": it.Prompt, "problem": map[string]any{"template": it.Problem.Template}}}, harness.Sample{Rec: trajectory.NewRecorder()})
			if err != nil {
				t.Fatal(err)
			}
			res := (longcotchess.Scorer{}).ScoreItem(it.ID, got, strings.Trim(string(it.Answer), `"`))
			if res.Status != "correct" {
				t.Errorf("%s solver %s: %q (%s)", it.ID, solver, got, res.Status)
			}
		}
	}
}

func TestReferenceModelVariant(t *testing.T) {
	src, _ := longcotchess.Bundle().Files.(interface{ ReadFile(string) ([]byte, error) }).ReadFile("reference/harness.star")
	rt := starlark.New(starlark.Config{})
	m := llmtest.Script("Let me count... solution = 210\nActually, solution = 218")
	h, err := rt.Load(t.Context(), harness.Source{Name: "harness.star", Code: src, Knobs: map[string]any{"knight_solver": "model"}}, harness.Env{Model: m})
	if err != nil {
		t.Fatal(err)
	}
	item := task.Item{ID: "k", Fields: map[string]any{"prompt": "knight question", "problem": map[string]any{"template": "knight_path"}}}
	got, err := h.Solve(t.Context(), item, harness.Sample{Rec: trajectory.NewRecorder()})
	if err != nil {
		t.Fatal(err)
	}
	if r := (longcotchess.Scorer{}).ScoreItem("k", got, "218"); r.Status != "correct" {
		t.Fatalf("answer %q scored %s", got, r.Status)
	}
}

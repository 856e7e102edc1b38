package web_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/sia-agent/sia/report/reporttest"
)

// The browser test reads the run's numbers straight from its files, with
// encoding/json alone, and checks that the pages a browser renders show
// them.

type rawEvent struct {
	Seq   int      `json:"seq"`
	Type  string   `json:"type"`
	Gen   int      `json:"gen"`
	Score *float64 `json:"score"`
}

func readLines(t *testing.T, p string) [][]byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 1<<20), 1<<26)
	for sc.Scan() {
		if len(bytes.TrimSpace(sc.Bytes())) > 0 {
			out = append(out, append([]byte(nil), sc.Bytes()...))
		}
	}
	return out
}

func rawEvents(t *testing.T, runDir string) ([]rawEvent, [][]byte) {
	t.Helper()
	lines := readLines(t, filepath.Join(runDir, "events.jsonl"))
	out := make([]rawEvent, len(lines))
	for i, l := range lines {
		if err := json.Unmarshal(l, &out[i]); err != nil {
			t.Fatal(err)
		}
	}
	return out, lines
}

// eval runs a JavaScript expression whose value is JSON.stringify'd in the
// page and decoded into v.
func eval(t *testing.T, ctx context.Context, expr string, v any) {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string]("JSON.stringify("+expr+")"))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	if err := json.Unmarshal([]byte(s), v); err != nil {
		t.Fatalf("evaluate %s: %v (%s)", expr, err, s)
	}
}

func do(t *testing.T, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatal(err)
	}
}

func num(t *testing.T, s string) float64 {
	t.Helper()
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatalf("%q: %v", s, err)
	}
	return v
}

// TestDashboardInBrowser drives the dashboard in headless Chromium over a
// run the loop made (report/reporttest), and a second run that grows while
// its page is open.
func TestDashboardInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: drives headless Chromium; .ci/run runs it")
	}
	ctx := browser(t, 2*time.Minute)
	runs := t.TempDir()
	run1 := filepath.Join(runs, "run_1")
	copyDir(t, filepath.Join(fixtureRuns, "run_1"), run1)
	evs, lines := rawEvents(t, run1)

	// run_2 is run_1 cut after gen 1's verdict: what a running run looks like.
	run2 := filepath.Join(runs, "run_2")
	copyDir(t, run1, run2)
	cut := 0
	for i, e := range evs {
		if e.Type == "verified" && e.Gen == 1 {
			cut = i + 1
		}
	}
	for _, d := range []string{"gen_2", "gen_3", "best"} {
		os.RemoveAll(filepath.Join(run2, d))
	}
	os.Remove(filepath.Join(run2, "gen_1", "feedback.json"))
	if err := os.WriteFile(filepath.Join(run2, "events.jsonl"), append(bytes.Join(lines[:cut], []byte("\n")), '\n'), 0o644); err != nil {
		t.Fatal(err)
	}

	ts, _ := serve(t, runs, "")
	base := ts.URL

	// What the files say.
	val := map[int]float64{}
	var test float64
	for _, e := range evs {
		switch e.Type {
		case "verified":
			val[e.Gen] = *e.Score
		case "test_scored":
			test = *e.Score
		}
	}
	bestGen := 1
	for g := 2; g <= len(val); g++ {
		if val[g] > val[bestGen] {
			bestGen = g
		}
	}

	t.Run("run list", func(t *testing.T) {
		do(t, ctx, chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS("#runs")))
		var rows []struct{ Run, Best, Test string }
		eval(t, ctx, `[...document.querySelectorAll('#runs tbody tr')].map(r => ({Run: r.dataset.run,
			Best: r.querySelector('.best').textContent.trim(), Test: r.querySelector('.test').textContent.trim()}))`, &rows)
		want := fmt.Sprintf("[{run_1 %.4f (gen %d) %.4f} {run_2 %.4f (gen 1) —}]", val[bestGen], bestGen, test, val[1])
		if got := fmt.Sprint(rows); got != want {
			t.Errorf("rows %s, want %s", got, want)
		}
	})

	t.Run("score chart", func(t *testing.T) {
		do(t, ctx, chromedp.Click(chromedp.CSS(`#runs tr[data-run="run_1"] a`)), chromedp.WaitVisible(chromedp.CSS("#score-chart")))
		var pts []struct {
			Gen   string
			Score string
			Y     float64
		}
		eval(t, ctx, `[...document.querySelectorAll('#score-chart .s-val circle.pt')].map(c => ({Gen: c.dataset.gen, Score: c.dataset.score, Y: c.getBoundingClientRect().y}))`, &pts)
		if len(pts) != len(val) {
			t.Fatalf("%d val points, %d verified generations", len(pts), len(val))
		}
		for i, p := range pts {
			if p.Gen != fmt.Sprint(i+1) || num(t, p.Score) != val[i+1] {
				t.Errorf("point %d: gen %s score %s, want %v", i, p.Gen, p.Score, val[i+1])
			}
			for j, q := range pts { // drawn where their values say: higher is up
				if val[i+1] > val[j+1] && !(p.Y < q.Y) {
					t.Errorf("gen %d (%.4f) drawn at y %.1f, not above gen %d (%.4f) at %.1f", i+1, val[i+1], p.Y, j+1, val[j+1], q.Y)
				}
			}
		}
		var inc []string
		eval(t, ctx, `[...document.querySelectorAll('#score-chart .s-inc [data-score]')].map(c => c.dataset.score)`, &inc)
		var testPt struct{ Gen, Score string }
		eval(t, ctx, `(p => ({Gen: p.dataset.gen, Score: p.dataset.score}))(document.querySelector('#score-chart .s-test .pt'))`, &testPt)
		if testPt.Gen != fmt.Sprint(bestGen) || num(t, testPt.Score) != test {
			t.Errorf("test point %+v, want gen %d %v", testPt, bestGen, test)
		}
		var line string
		eval(t, ctx, `document.querySelector('#score-chart .s-inc .line').getAttribute('d')`, &line)
		if strings.Count(line, "H") != len(val)-1 {
			t.Errorf("incumbent step line %q", line)
		}
		var shown string
		eval(t, ctx, `document.querySelector('#test').textContent`, &shown)
		if shown != fmt.Sprintf("%.4f", test) {
			t.Errorf("test shown %q", shown)
		}
	})

	t.Run("decision", func(t *testing.T) {
		var dec struct {
			Action, Algorithm, Rationale, Hypothesis string
			RewardStats                              struct {
				N int `json:"n"`
			} `json:"reward_stats"`
		}
		b, err := os.ReadFile(filepath.Join(run1, "gen_3", "decision.json"))
		if err != nil || json.Unmarshal(b, &dec) != nil {
			t.Fatal(err)
		}
		var head string
		eval(t, ctx, `document.querySelector('#decision-3-made summary').innerText`, &head)
		for _, w := range []string{"gen 3:", dec.Action, dec.Algorithm, dec.Rationale} {
			if !strings.Contains(head, w) {
				t.Errorf("decision summary %q lacks %q", head, w)
			}
		}
		do(t, ctx, chromedp.Click(chromedp.CSS("#decision-3-made summary")), chromedp.WaitVisible(chromedp.CSS(`#decision-3-made .improvement`)))
		var body struct{ Text, N string }
		eval(t, ctx, `(a => ({Text: a.innerText, N: a.querySelector('[data-key="n"] dd').textContent}))(document.querySelector('#decision-3-made'))`, &body)
		if !strings.Contains(body.Text, dec.Hypothesis) || body.N != fmt.Sprint(dec.RewardStats.N) {
			t.Errorf("opened decision %+v, want hypothesis %q and n %d", body, dec.Hypothesis, dec.RewardStats.N)
		}
	})

	t.Run("training curve", func(t *testing.T) {
		steps := readLines(t, filepath.Join(run1, "gen_3", "train.jsonl"))
		for _, metric := range []string{"loss", "reward", "kl", "grad_norm"} {
			var first, last map[string]float64
			json.Unmarshal(steps[0], &first)
			json.Unmarshal(steps[len(steps)-1], &last)
			var got struct {
				First, Last string
				Points      []string
				Caption     string
			}
			eval(t, ctx, fmt.Sprintf(`(f => ({First: f.dataset.first, Last: f.dataset.last, Caption: f.querySelector('figcaption').textContent,
				Points: [...f.querySelectorAll('circle.pt')].map(c => c.dataset.value)}))(document.querySelector('.curve[data-gen="3"] figure[data-metric=%q]'))`, metric), &got)
			if num(t, got.First) != first[metric] || num(t, got.Last) != last[metric] || len(got.Points) != len(steps) {
				t.Errorf("%s curve %+v, want %v → %v over %d steps", metric, got, first[metric], last[metric], len(steps))
			}
			for i, l := range steps {
				var m map[string]float64
				json.Unmarshal(l, &m)
				if i < len(got.Points) && num(t, got.Points[i]) != m[metric] {
					t.Errorf("%s step %d: %s, want %v", metric, i+1, got.Points[i], m[metric])
				}
			}
		}
	})

	t.Run("harness diff", func(t *testing.T) {
		// The run page's form defaults to the latest harness edit (gen 2)
		// against its parent (gen 1).
		do(t, ctx, chromedp.Click(chromedp.CSS("form.diffform button")), chromedp.WaitVisible(chromedp.CSS("#diff")))
		var d struct {
			From, To      string
			Ins, Del      []string
			Knob, KnobNew string
		}
		eval(t, ctx, `({From: document.querySelector('#diff').dataset.from, To: document.querySelector('#diff').dataset.to,
			Ins: [...document.querySelectorAll('table.diff tr.insert pre')].map(p => p.textContent.trim()),
			Del: [...document.querySelectorAll('table.diff tr.delete pre')].map(p => p.textContent.trim()),
			Knob: document.querySelector('#knob-changes tbody tr').dataset.knob,
			KnobNew: document.querySelector('#knob-changes tbody tr td.ins').textContent.trim()})`, &d)
		a, _ := os.ReadFile(filepath.Join(run1, "gen_1", "harness.star"))
		b, _ := os.ReadFile(filepath.Join(run1, "gen_2", "harness.star"))
		onlyIn := func(x, y []byte) []string { // lines of x not in y
			have := map[string]bool{}
			for _, l := range strings.Split(string(y), "\n") {
				have[strings.TrimSpace(l)] = true
			}
			var out []string
			for _, l := range strings.Split(string(x), "\n") {
				if !have[strings.TrimSpace(l)] {
					out = append(out, strings.TrimSpace(l))
				}
			}
			return out
		}
		if d.From != "1" || d.To != "2" || fmt.Sprint(d.Ins) != fmt.Sprint(onlyIn(b, a)) || fmt.Sprint(d.Del) != fmt.Sprint(onlyIn(a, b)) {
			t.Errorf("diff %+v; the files differ by +%q −%q", d, onlyIn(b, a), onlyIn(a, b))
		}
		if !strings.Contains(strings.Join(d.Ins, "\n"), reporttest.EditedLine) {
			t.Errorf("the edit is not among the inserted lines %q", d.Ins)
		}
		var knobs map[string]any
		kb, _ := os.ReadFile(filepath.Join(run1, "gen_2", "knobs.json"))
		json.Unmarshal(kb, &knobs)
		if d.Knob != "variant" || d.KnobNew != fmt.Sprintf("%q", knobs["variant"]) {
			t.Errorf("knob change %s → %s, knobs.json has %v", d.Knob, d.KnobNew, knobs)
		}
	})

	t.Run("trajectory", func(t *testing.T) {
		do(t, ctx, chromedp.Navigate(base+"/run/run_1/gen/2/rollouts"), chromedp.WaitVisible(chromedp.CSS("#items")),
			chromedp.Click(chromedp.CSS("#items tbody tr:nth-child(3) a")), chromedp.WaitVisible(chromedp.CSS(".sample")))
		var page struct {
			Item, Reward, Status, Answer string
			Kinds, Completions           []string
		}
		eval(t, ctx, `(s => ({Item: new URL(location.href).searchParams.get('id'), Reward: s.dataset.reward, Status: s.dataset.status,
			Answer: s.querySelector('.answer').textContent, Kinds: [...s.querySelectorAll('.step')].map(x => x.dataset.kind),
			Completions: [...s.querySelectorAll('.completion')].map(x => x.textContent)}))(document.querySelector('#sample-0'))`, &page)
		var want struct {
			Item   string
			Sample int
			Answer string
			Status string
			Reward float64
			Steps  []struct{ Kind, Completion string }
		}
		found := false
		for _, l := range readLines(t, filepath.Join(run1, "gen_2", "rollouts.jsonl")) {
			json.Unmarshal(l, &want)
			if want.Item == page.Item && want.Sample == 0 {
				found = true
				break
			}
		}
		if !found {
			t.Fatalf("item %q is not in rollouts.jsonl", page.Item)
		}
		var kinds, comps []string
		for _, s := range want.Steps {
			kinds = append(kinds, s.Kind)
			if s.Kind == "model" {
				comps = append(comps, s.Completion)
			}
		}
		if num(t, page.Reward) != want.Reward || page.Status != want.Status || page.Answer != want.Answer ||
			fmt.Sprint(page.Kinds) != fmt.Sprint(kinds) || fmt.Sprint(page.Completions) != fmt.Sprint(comps) || len(comps) == 0 {
			t.Errorf("page %+v\nfile %+v", page, want)
		}
	})

	t.Run("live", func(t *testing.T) {
		do(t, ctx, chromedp.Navigate(base+"/run/run_2"), chromedp.WaitVisible(chromedp.CSS("#gens")))
		var n int
		eval(t, ctx, `document.querySelectorAll('#gens tbody tr').length`, &n)
		if n != 1 {
			t.Fatalf("run_2 starts with %d generations", n)
		}
		// Mark this page: a reload would lose the mark.
		eval(t, ctx, `(window.__mark = 42)`, new(int))
		if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.querySelector('#live-status').textContent.startsWith('live')`,
			chromedp.WithPollingTimeout(20*time.Second))); err != nil {
			t.Fatalf("the event stream did not open: %v", err)
		}
		// The loop writes gen 2's files, then appends its events.
		copyDir(t, filepath.Join(run1, "gen_2"), filepath.Join(run2, "gen_2"))
		if b, err := os.ReadFile(filepath.Join(run1, "gen_1", "feedback.json")); err == nil {
			os.WriteFile(filepath.Join(run2, "gen_1", "feedback.json"), b, 0o644)
		}
		f, err := os.OpenFile(filepath.Join(run2, "events.jsonl"), os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		for i := cut; i < len(evs) && !(evs[i].Gen == 2 && evs[i].Type == "decided"); i++ {
			if _, err := f.Write(append(lines[i], '\n')); err != nil {
				t.Fatal(err)
			}
			if evs[i].Type == "verified" {
				break
			}
		}
		f.Close()
		if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.querySelectorAll('#gens tbody tr').length === 2`,
			chromedp.WithPollingTimeout(20*time.Second))); err != nil {
			t.Fatalf("gen 2 did not appear: %v", err)
		}
		var after struct {
			Mark   int
			Score  string
			Points int
		}
		eval(t, ctx, `({Mark: window.__mark, Score: document.querySelector('#gens tr[data-gen="2"] .score').textContent,
			Points: document.querySelectorAll('#score-chart .s-val circle.pt').length})`, &after)
		if after.Mark != 42 {
			t.Error("the page reloaded")
		}
		if after.Score != fmt.Sprintf("%.4f", val[2]) || after.Points != 2 {
			t.Errorf("after the update: %+v, want gen 2 at %.4f and 2 points", after, val[2])
		}
	})
}

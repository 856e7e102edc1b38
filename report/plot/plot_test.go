package plot_test

import (
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/sia-agent/sia/report"
	"github.com/sia-agent/sia/report/plot"
	"github.com/sia-agent/sia/report/reporttest"
)

// runDir is one real run (report/reporttest) the tests share.
var runDir string

func TestMain(m *testing.M) {
	tmp, err := os.MkdirTemp("", "plot-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	runDir, err = reporttest.MakeRun(context.Background(), tmp, reporttest.Options{})
	code := 1
	if err != nil {
		fmt.Fprintln(os.Stderr, "make run:", err)
	} else {
		code = m.Run()
	}
	os.RemoveAll(tmp)
	os.Exit(code)
}

func fixture(t *testing.T) *report.Run {
	t.Helper()
	r, err := report.Open(runDir)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestWriteAll plots a real run and checks, in the files, that each
// series is there with the run's numbers.
func TestWriteAll(t *testing.T) {
	r := fixture(t)
	out := t.TempDir()
	files, err := plot.WriteAll(r, out)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range files {
		names = append(names, filepath.Base(f))
	}
	sort.Strings(names)
	if got := strings.Join(names, " "); got != "levers.png levers.svg score.png score.svg train_gen3.png train_gen3.svg" {
		t.Fatalf("files %s", got)
	}

	t.Run("score png", func(t *testing.T) {
		img := decodePNG(t, filepath.Join(out, "score.png"))
		for _, c := range []struct {
			name string
			c    color.RGBA
			min  int
		}{{"val", plot.ColorVal, 100}, {"incumbent", plot.ColorIncumbent, 100}, {"test", plot.ColorTest, 20}} {
			if n := countNear(img, c.c); n < c.min {
				t.Errorf("%s series: %d pixels of its colour, want at least %d", c.name, n, c.min)
			}
		}
	})

	t.Run("score svg", func(t *testing.T) {
		svg := readFile(t, filepath.Join(out, "score.svg"))
		for _, want := range []string{">val<", ">incumbent<", ">test (gen 3)<", ">generation<", ">accuracy<"} {
			if !strings.Contains(svg, want) {
				t.Errorf("svg lacks %q", want)
			}
		}
		// The val line has one vertex per generation, and its heights are
		// the scores under one linear map: equal ratios of differences.
		pts := strokePath(t, svg, plot.ColorVal)
		var scores []float64
		for _, g := range r.Summary.Generations {
			scores = append(scores, *g.Score)
		}
		if len(pts) != len(scores) {
			t.Fatalf("val line has %d points, the run %d verified generations", len(pts), len(scores))
		}
		for i := 1; i < len(pts); i++ {
			if pts[i][0] <= pts[i-1][0] {
				t.Errorf("x not increasing: %v", pts)
			}
		}
		scale := (pts[len(pts)-1][1] - pts[0][1]) / (scores[len(scores)-1] - scores[0])
		for i := range pts {
			want := pts[0][1] + (scores[i]-scores[0])*scale
			if math.Abs(pts[i][1]-want) > 0.05 {
				t.Errorf("gen %d at height %.3f, its score %.4f maps to %.3f", i+1, pts[i][1], scores[i], want)
			}
		}
	})

	t.Run("levers svg", func(t *testing.T) {
		svg := readFile(t, filepath.Join(out, "levers.svg"))
		alg := string(*r.Summary.Generations[2].Algorithm)
		for _, want := range []string{">initial<", ">harness<", ">weights<", "  " + alg + "<"} {
			if !strings.Contains(svg, want) {
				t.Errorf("svg lacks %q", want)
			}
		}
		img := decodePNG(t, filepath.Join(out, "levers.png"))
		for _, c := range []color.RGBA{plot.ColorInitial, plot.ColorHarness, plot.ColorWeights} {
			if n := countNear(img, c); n < 50 {
				t.Errorf("lever colour %v: %d pixels", c, n)
			}
		}
	})

	t.Run("training svg", func(t *testing.T) {
		svg := readFile(t, filepath.Join(out, "train_gen3.svg"))
		curves, err := r.TrainCurves(3)
		if err != nil || len(curves) != 1 {
			t.Fatal(curves, err)
		}
		c := curves[0]
		for _, m := range report.CurveMetrics {
			if !strings.Contains(svg, ">"+m+"<") {
				t.Errorf("training figure lacks a %s panel", m)
			}
		}
		// Every panel's line has one vertex per step.
		lines := regexp.MustCompile(`<path d="(M[^"A]*)" style="fill:none;stroke:`+hex(plot.ColorCurve)).FindAllStringSubmatch(svg, -1)
		if len(lines) != len(c.Series) {
			t.Fatalf("%d curve lines, %d series", len(lines), len(c.Series))
		}
		for i, l := range lines {
			if n := strings.Count(l[1], "L") + 1; n != len(c.Steps) {
				t.Errorf("panel %d (%s): %d points, %d steps", i, c.Series[i].Name, n, len(c.Steps))
			}
		}
		decodePNG(t, filepath.Join(out, "train_gen3.png"))
	})
}

// TestScoreWithoutTest: a run without a test score has no test series (so
// the pixel check above can fail).
func TestScoreWithoutTest(t *testing.T) {
	r := fixture(t)
	s := *r.Summary
	s.TestScore = nil
	p, err := plot.Score(&s, true)
	if err != nil {
		t.Fatal(err)
	}
	f := plot.Figure{Name: "score", W: 400, H: 300, Draw: p.Draw}
	dir := t.TempDir()
	if _, err := f.Write(dir); err != nil {
		t.Fatal(err)
	}
	img := decodePNG(t, filepath.Join(dir, "score.png"))
	if n := countNear(img, plot.ColorTest); n != 0 {
		t.Errorf("%d test-coloured pixels without a test score", n)
	}
	if n := countNear(img, plot.ColorVal); n == 0 {
		t.Error("no val pixels")
	}
}

func TestNoGenerations(t *testing.T) {
	r := fixture(t)
	r.Summary.Generations = nil
	if _, err := plot.WriteAll(r, t.TempDir()); err == nil || !strings.Contains(err.Error(), "no generations") {
		t.Errorf("err %v", err)
	}
}

func decodePNG(t *testing.T, p string) image.Image {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", p, err)
	}
	if b := img.Bounds(); b.Dx() < 300 || b.Dy() < 150 {
		t.Errorf("%s is %v", p, b)
	}
	return img
}

// countNear counts pixels within a small distance of c (anti-aliasing
// blends edges; line centres keep the colour).
func countNear(img image.Image, c color.RGBA) int {
	n := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			d := math.Abs(float64(r>>8)-float64(c.R)) + math.Abs(float64(g>>8)-float64(c.G)) + math.Abs(float64(bl>>8)-float64(c.B))
			if d <= 24 {
				n++
			}
		}
	}
	return n
}

func hex(c color.RGBA) string { return fmt.Sprintf("#%02X%02X%02X", c.R, c.G, c.B) }

// strokePath returns the vertices of the first polyline stroked in c with
// more than two points (the legend's sample line has two).
func strokePath(t *testing.T, svg string, c color.RGBA) [][2]float64 {
	t.Helper()
	re := regexp.MustCompile(`<path d="(M[^"A]*)" style="fill:none;stroke:` + hex(c))
	for _, m := range re.FindAllStringSubmatch(svg, -1) {
		var pts [][2]float64
		for _, p := range regexp.MustCompile(`[ML]([-0-9.e]+),([-0-9.e]+)`).FindAllStringSubmatch(m[1], -1) {
			x, _ := strconv.ParseFloat(p[1], 64)
			y, _ := strconv.ParseFloat(p[2], 64)
			pts = append(pts, [2]float64{x, y})
		}
		if len(pts) > 2 {
			return pts
		}
	}
	t.Fatalf("no %s polyline in the svg", hex(c))
	return nil
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestIncumbentLineFollowsAcceptance: a generation with a higher val score
// that the paired test did not accept does not move the incumbent line.
func TestIncumbentLineFollowsAcceptance(t *testing.T) {
	v := func(x float64) *float64 { return &x }
	s := report.Summary{Run: "1", Task: "t", Mode: "auto", Metric: "accuracy", Best: &report.Best{Gen: 1, Score: 0.5},
		Generations: []report.Gen{
			{Gen: 1, Action: "initial", Score: v(0.5), Accepted: true},
			{Gen: 2, Action: "harness", Score: v(0.6)},
			{Gen: 3, Action: "harness", Score: v(0.55)},
		}}
	for _, tc := range []struct {
		name string
		flat bool
	}{{"accepted recorded", true}, {"no acceptance recorded: the best so far", false}} {
		t.Run(tc.name, func(t *testing.T) {
			if !tc.flat {
				s.Generations[0].Accepted = false
			}
			p, err := plot.Score(&s, true)
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			if _, err := (plot.Figure{Name: "score", W: 400, H: 300, Draw: p.Draw}).Write(dir); err != nil {
				t.Fatal(err)
			}
			pts := strokePath(t, readFile(t, filepath.Join(dir, "score.svg")), plot.ColorIncumbent)
			flat := true
			for _, pt := range pts[1:] {
				flat = flat && pt[1] == pts[0][1]
			}
			if flat != tc.flat {
				t.Errorf("incumbent line %v: flat %v, want %v", pts, flat, tc.flat)
			}
		})
	}
}

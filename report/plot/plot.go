package plot

import (
	"fmt"
	"image/color"
	"math"
	"os"
	"path"
	"path/filepath"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/sia-agent/sia/report"
	"github.com/sia-agent/sia/runstore"
)

// Series colours. Each series has its own, so a test (or a reader of a
// grey-scale print) can tell them apart.
var (
	ColorVal       = color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff} // blue
	ColorIncumbent = color.RGBA{R: 0xff, G: 0x7f, B: 0x0e, A: 0xff} // orange
	ColorTest      = color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff} // red
	ColorInitial   = color.RGBA{R: 0x7f, G: 0x7f, B: 0x7f, A: 0xff} // grey
	ColorHarness   = color.RGBA{R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff} // green
	ColorWeights   = color.RGBA{R: 0x94, G: 0x67, B: 0xbd, A: 0xff} // purple
	ColorCurve     = color.RGBA{R: 0x17, G: 0x7e, B: 0x89, A: 0xff} // teal
)

// Formats are the file formats every figure is written in.
var Formats = []string{"png", "svg"}

// Figure is something drawable at a size, written once per format.
type Figure struct {
	Name string // file name without extension
	W, H vg.Length
	Draw func(draw.Canvas)
}

// Write renders f into dir as Name.png and Name.svg and returns the paths.
func (f Figure) Write(dir string) ([]string, error) {
	var out []string
	for _, format := range Formats {
		c, err := draw.NewFormattedCanvas(f.W, f.H, format)
		if err != nil {
			return out, err
		}
		f.Draw(draw.New(c))
		p := filepath.Join(dir, f.Name+"."+format)
		file, err := os.Create(p)
		if err != nil {
			return out, err
		}
		_, err = c.WriteTo(file)
		if cerr := file.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return out, fmt.Errorf("write %s: %w", p, err)
		}
		out = append(out, p)
	}
	return out, nil
}

func single(name string, p *plot.Plot, w, h vg.Length) Figure {
	return Figure{Name: name, W: w, H: h, Draw: p.Draw}
}

// Figures returns every figure of a run: score, levers, and one
// train_gen<n> figure per training log.
func Figures(r *report.Run) ([]Figure, error) {
	s := r.Summary
	if len(s.Generations) == 0 {
		return nil, fmt.Errorf("run %s has no generations yet", r.Name)
	}
	score, err := Score(s, r.Config.Higher())
	if err != nil {
		return nil, err
	}
	levers, err := Levers(s)
	if err != nil {
		return nil, err
	}
	figs := []Figure{single("score", score, 16*vg.Centimeter, 10*vg.Centimeter),
		single("levers", levers, 16*vg.Centimeter, 6*vg.Centimeter)}
	for _, g := range s.Generations {
		curves, err := r.TrainCurves(g.Gen)
		if err != nil {
			return nil, err
		}
		for _, c := range curves {
			name := fmt.Sprintf("train_gen%d", g.Gen)
			// train_gen<n> for the last round's curve; train_gen<n>_train_<k>,
			// train_gen<n>_adapter_train for the others.
			if rel := strings.TrimPrefix(c.File, runstore.GenDirName(g.Gen)+"/"); rel != runstore.TrainLogFile {
				name += "_" + strings.ReplaceAll(strings.TrimSuffix(rel, path.Ext(rel)), "/", "_")
			}
			fig, err := Training(name, fmt.Sprintf("gen %d: %s update", g.Gen, algorithmOf(g)), c)
			if err != nil {
				return nil, err
			}
			figs = append(figs, fig)
		}
	}
	return figs, nil
}

// WriteAll writes every figure of a run into dir (created) and returns the
// files written.
func WriteAll(r *report.Run, dir string) ([]string, error) {
	figs, err := Figures(r)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var out []string
	for _, f := range figs {
		paths, err := f.Write(dir)
		out = append(out, paths...)
		if err != nil {
			return out, err
		}
	}
	return out, nil
}

func algorithmOf(g report.Gen) string {
	if g.Algorithm == nil {
		return "weight"
	}
	return string(*g.Algorithm)
}

// Score plots the val score per generation, the incumbent (the val score
// of the last generation kept; in a summary that records no acceptance,
// the best val so far, ties keeping the older), and the held-out test
// score of the final incumbent. higher is the metric's direction.
func Score(s *report.Summary, higher bool) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = fmt.Sprintf("run %s · %s · %s", s.Run, s.Task, s.Mode)
	p.X.Label.Text = "generation"
	p.Y.Label.Text = s.Metric
	p.Legend.Top = true
	p.Legend.Left = true
	var val, inc plotter.XYs
	recorded := false
	for _, g := range s.Generations {
		recorded = recorded || g.Accepted
	}
	bestSoFar := math.NaN()
	for _, g := range s.Generations {
		if g.Score == nil {
			continue
		}
		val = append(val, plotter.XY{X: float64(g.Gen), Y: *g.Score})
		kept := g.Accepted
		if !recorded {
			kept = math.IsNaN(bestSoFar) || higher && *g.Score > bestSoFar || !higher && *g.Score < bestSoFar
		}
		if kept {
			bestSoFar = *g.Score
		}
		inc = append(inc, plotter.XY{X: float64(g.Gen), Y: bestSoFar})
	}
	if len(val) == 0 {
		return nil, fmt.Errorf("run %s has no verified generation", s.Run)
	}
	line, points, err := plotter.NewLinePoints(val)
	if err != nil {
		return nil, err
	}
	line.Color, points.Color = ColorVal, ColorVal
	line.Width = vg.Points(1.5)
	points.Shape = draw.CircleGlyph{}
	points.Radius = vg.Points(3)
	step, err := plotter.NewLine(inc)
	if err != nil {
		return nil, err
	}
	step.StepStyle = plotter.PostStep
	step.Color = ColorIncumbent
	step.Width = vg.Points(2)
	step.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
	p.Add(plotter.NewGrid(), step, line, points)
	p.Legend.Add("val", line, points)
	p.Legend.Add("incumbent", step)
	if s.TestScore != nil && s.Best != nil {
		test, err := plotter.NewScatter(plotter.XYs{{X: float64(s.Best.Gen), Y: *s.TestScore}})
		if err != nil {
			return nil, err
		}
		test.Shape = draw.PyramidGlyph{}
		test.Color = ColorTest
		test.Radius = vg.Points(5)
		p.Add(test)
		p.Legend.Add(fmt.Sprintf("test (gen %d)", s.Best.Gen), test)
	}
	p.X.Tick.Marker = genTicks{}
	p.X.Min, p.X.Max = 0.5, float64(len(s.Generations))+0.5
	pad := (p.Y.Max - p.Y.Min) * 0.08
	if pad == 0 {
		pad = 0.05
	}
	p.Y.Min, p.Y.Max = p.Y.Min-pad, p.Y.Max+pad
	return p, nil
}

// genTicks labels whole generations only.
type genTicks struct{}

func (genTicks) Ticks(min, max float64) []plot.Tick {
	var out []plot.Tick
	step := math.Max(1, math.Ceil((max-min)/12))
	for g := math.Ceil(min); g <= max; g += step {
		out = append(out, plot.Tick{Value: g, Label: fmt.Sprint(int(g))})
	}
	return out
}

// lanes of the lever timeline, bottom to top.
var lanes = []string{"initial", "harness", "weights"}

// Levers plots which lever made each generation: one lane per action, one
// square per generation, the RL algorithm written beside a weight update.
func Levers(s *report.Summary) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = "lever per generation"
	p.X.Label.Text = "generation"
	colors := map[string]color.Color{"initial": ColorInitial, "harness": ColorHarness, "weights": ColorWeights}
	byLane := map[string]plotter.XYs{}
	var labels plotter.XYLabels
	for _, g := range s.Generations {
		lane := laneOf(g.Action)
		y := float64(lane)
		byLane[lanes[lane]] = append(byLane[lanes[lane]], plotter.XY{X: float64(g.Gen), Y: y})
		if g.Algorithm != nil {
			labels.XYs = append(labels.XYs, plotter.XY{X: float64(g.Gen), Y: y})
			labels.Labels = append(labels.Labels, "  "+string(*g.Algorithm))
		}
	}
	p.Add(plotter.NewGrid())
	for _, name := range lanes {
		xys := byLane[name]
		if len(xys) == 0 {
			continue
		}
		sc, err := plotter.NewScatter(xys)
		if err != nil {
			return nil, err
		}
		sc.Shape = draw.BoxGlyph{}
		sc.Color = colors[name]
		sc.Radius = vg.Points(6)
		p.Add(sc)
	}
	if len(labels.XYs) > 0 {
		l, err := plotter.NewLabels(labels)
		if err != nil {
			return nil, err
		}
		for i := range l.TextStyle {
			l.TextStyle[i].YAlign = draw.YCenter
			l.Offset.X = vg.Points(4)
		}
		p.Add(l)
	}
	ticks := make([]plot.Tick, len(lanes))
	for i, name := range lanes {
		ticks[i] = plot.Tick{Value: float64(i), Label: name}
	}
	p.Y.Tick.Marker = plot.ConstantTicks(ticks)
	p.Y.Min, p.Y.Max = -0.6, float64(len(lanes))-0.4
	p.X.Tick.Marker = genTicks{}
	p.X.Min, p.X.Max = 0.5, float64(len(s.Generations))+1.5 // room for the last label
	return p, nil
}

func laneOf(action string) int {
	for i, l := range lanes {
		if l == action {
			return i
		}
	}
	return 0
}

// Training draws one weight update's curves, one panel per metric (loss,
// reward, KL and grad norm first), two panels a row.
func Training(name, title string, c report.Curve) (Figure, error) {
	var plots []*plot.Plot
	for _, s := range c.Series {
		p := plot.New()
		p.Title.Text = s.Name
		p.X.Label.Text = "step"
		var xys plotter.XYs
		for i, v := range s.Values {
			if !math.IsNaN(v) {
				xys = append(xys, plotter.XY{X: c.Steps[i], Y: v})
			}
		}
		if len(xys) == 0 {
			continue
		}
		line, points, err := plotter.NewLinePoints(xys)
		if err != nil {
			return Figure{}, fmt.Errorf("%s %s: %w", c.File, s.Name, err)
		}
		line.Color, points.Color = ColorCurve, ColorCurve
		points.Radius = vg.Points(1.5)
		p.Add(plotter.NewGrid(), line)
		if len(xys) <= 60 {
			p.Add(points)
		}
		plots = append(plots, p)
	}
	if len(plots) == 0 {
		return Figure{}, fmt.Errorf("%s has no metrics", c.File)
	}
	const cols = 2
	rows := (len(plots) + cols - 1) / cols
	grid := make([][]*plot.Plot, rows)
	for i := range grid {
		grid[i] = make([]*plot.Plot, cols)
	}
	for i, p := range plots {
		grid[i/cols][i%cols] = p
	}
	w, h := 18*vg.Centimeter, vg.Length(rows)*6*vg.Centimeter+vg.Centimeter
	return Figure{Name: name, W: w, H: h, Draw: func(dc draw.Canvas) {
		titleH := vg.Centimeter
		top := draw.Crop(dc, 0, 0, 0, -titleH) // the header strip
		sty := draw.TextStyle{Color: color.Black, Font: plot.DefaultFont, Handler: plot.DefaultTextHandler,
			XAlign: draw.XCenter, YAlign: draw.YCenter}
		sty.Font.Size = vg.Points(12)
		dc.FillText(sty, vg.Point{X: dc.Center().X, Y: dc.Max.Y - titleH/2}, title+" ("+c.File+")")
		tiles := draw.Tiles{Rows: rows, Cols: cols, PadX: vg.Millimeter * 4, PadY: vg.Millimeter * 4,
			PadTop: vg.Millimeter * 2, PadBottom: vg.Millimeter * 2, PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 2}
		canvases := plot.Align(grid, tiles, top)
		for i := range grid {
			for j, p := range grid[i] {
				if p != nil {
					p.Draw(canvases[i][j])
				}
			}
		}
	}}, nil
}

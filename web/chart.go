package web

import (
	"fmt"
	"html"
	"html/template"
	"math"
	"sort"
	"strconv"
	"strings"
)

// chart is a line chart drawn as inline SVG. Colours come from the
// stylesheet through class names, and every point carries its values in
// data- attributes and a <title> tooltip.
type chart struct {
	ID            string
	Title         string
	W, H          int
	XLabel        string
	YLabel        string
	IntegerX      bool // ticks on whole numbers only (generations)
	XMin, XMax    float64
	Series        []series
	YZeroBaseline bool
}

type series struct {
	Name   string
	Class  string // CSS class: s-val, s-inc, s-test, s-curve
	Step   bool   // a step line (the incumbent)
	Line   bool
	Marker string // "circle", "diamond" or ""
	Points []point
}

type point struct {
	X, Y  float64
	Title string            // tooltip
	Data  map[string]string // data- attributes
}

// margins of the plot area.
const (
	mLeft, mRight, mTop, mBottom = 48, 12, 26, 34
)

// niceTicks returns about n round tick values covering [lo, hi].
func niceTicks(lo, hi float64, n int) []float64 {
	if hi <= lo {
		return []float64{lo}
	}
	raw := (hi - lo) / float64(max(1, n))
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	var out []float64
	for v := math.Ceil(lo/step-1e-9) * step; v <= hi+step*1e-9; v += step {
		out = append(out, math.Round(v/step)*step)
	}
	return out
}

func tickLabel(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1e9 {
		return strconv.FormatInt(int64(v), 10)
	}
	return strconv.FormatFloat(v, 'g', 4, 64)
}

// SVG renders the chart. All text is escaped here: run files are data.
func (c chart) SVG() template.HTML {
	ylo, yhi := math.Inf(1), math.Inf(-1)
	xlo, xhi := c.XMin, c.XMax
	autoX := xlo == 0 && xhi == 0
	if autoX {
		xlo, xhi = math.Inf(1), math.Inf(-1)
	}
	for _, s := range c.Series {
		for _, p := range s.Points {
			ylo, yhi = math.Min(ylo, p.Y), math.Max(yhi, p.Y)
			if autoX {
				xlo, xhi = math.Min(xlo, p.X), math.Max(xhi, p.X)
			}
		}
	}
	if math.IsInf(ylo, 0) {
		ylo, yhi = 0, 1
	}
	if c.YZeroBaseline && ylo > 0 {
		ylo = 0
	}
	if yhi-ylo < 1e-12 {
		ylo, yhi = ylo-0.5*math.Max(math.Abs(ylo), 0.1), yhi+0.5*math.Max(math.Abs(yhi), 0.1)
	}
	pad := (yhi - ylo) * 0.08
	ylo, yhi = ylo-pad, yhi+pad
	if math.IsInf(xlo, 0) || xhi <= xlo {
		xlo, xhi = xlo-1, xlo+1
		if math.IsInf(xlo, 0) {
			xlo, xhi = 0, 1
		}
	}
	pw, ph := float64(c.W-mLeft-mRight), float64(c.H-mTop-mBottom)
	X := func(x float64) float64 { return mLeft + (x-xlo)/(xhi-xlo)*pw }
	Y := func(y float64) float64 { return mTop + (1-(y-ylo)/(yhi-ylo))*ph }

	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" id="%s" viewBox="0 0 %d %d" width="%d" height="%d" role="img" aria-label="%s" xmlns="http://www.w3.org/2000/svg">`,
		esc(c.ID), c.W, c.H, c.W, c.H, esc(c.Title))
	fmt.Fprintf(&b, `<text class="c-title" x="%d" y="16">%s</text>`, mLeft, esc(c.Title))
	// Axes and grid.
	for _, v := range niceTicks(ylo+pad, yhi-pad, 4) {
		y := Y(v)
		fmt.Fprintf(&b, `<line class="grid" x1="%d" x2="%d" y1="%.1f" y2="%.1f"/>`, mLeft, c.W-mRight, y, y)
		fmt.Fprintf(&b, `<text class="tick" x="%d" y="%.1f" text-anchor="end">%s</text>`, mLeft-4, y+3, tickLabel(v))
	}
	var xt []float64
	if c.IntegerX {
		step := math.Max(1, math.Ceil((xhi-xlo)/12))
		for v := math.Ceil(xlo); v <= xhi; v += step {
			xt = append(xt, v)
		}
	} else {
		xt = niceTicks(xlo, xhi, 5)
	}
	for _, v := range xt {
		x := X(v)
		fmt.Fprintf(&b, `<line class="axis" x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f"/>`, x, x, mTop+ph, mTop+ph+4)
		fmt.Fprintf(&b, `<text class="tick" x="%.1f" y="%.1f" text-anchor="middle">%s</text>`, x, mTop+ph+15, tickLabel(v))
	}
	fmt.Fprintf(&b, `<line class="axis" x1="%d" x2="%d" y1="%.1f" y2="%.1f"/>`, mLeft, c.W-mRight, mTop+ph, mTop+ph)
	fmt.Fprintf(&b, `<line class="axis" x1="%d" x2="%d" y1="%d" y2="%.1f"/>`, mLeft, mLeft, mTop, mTop+ph)
	if c.XLabel != "" {
		fmt.Fprintf(&b, `<text class="label" x="%.1f" y="%d" text-anchor="middle">%s</text>`, mLeft+pw/2, c.H-4, esc(c.XLabel))
	}
	if c.YLabel != "" {
		fmt.Fprintf(&b, `<text class="label" transform="rotate(-90)" x="%.1f" y="12" text-anchor="middle">%s</text>`, -(mTop + ph/2), esc(c.YLabel))
	}
	// Series.
	for _, s := range c.Series {
		fmt.Fprintf(&b, `<g class="series %s" data-series="%s">`, esc(s.Class), esc(s.Name))
		if (s.Line || s.Step) && len(s.Points) > 1 {
			var d strings.Builder
			for i, p := range s.Points {
				switch {
				case i == 0:
					fmt.Fprintf(&d, "M%.1f,%.1f", X(p.X), Y(p.Y))
				case s.Step:
					fmt.Fprintf(&d, " H%.1f V%.1f", X(p.X), Y(p.Y))
				default:
					fmt.Fprintf(&d, " L%.1f,%.1f", X(p.X), Y(p.Y))
				}
			}
			fmt.Fprintf(&b, `<path class="line" d="%s"/>`, d.String())
		}
		for _, p := range s.Points {
			attrs := dataAttrs(p)
			x, y := X(p.X), Y(p.Y)
			switch s.Marker {
			case "circle":
				fmt.Fprintf(&b, `<circle class="pt" cx="%.1f" cy="%.1f" r="4"%s><title>%s</title></circle>`, x, y, attrs, esc(p.Title))
			case "diamond":
				fmt.Fprintf(&b, `<path class="pt" d="M%.1f,%.1f l6,6 l-6,6 l-6,-6 z"%s><title>%s</title></path>`, x, y-6, attrs, esc(p.Title))
			}
		}
		b.WriteString(`</g>`)
	}
	// Legend, right-aligned above the plot area.
	if len(c.Series) > 1 {
		width := 0.0
		for _, s := range c.Series {
			width += 22 + 6.5*float64(len(s.Name))
		}
		lx := float64(c.W-mRight) - width
		for _, s := range c.Series {
			fmt.Fprintf(&b, `<g class="legend %s"><rect x="%.1f" y="%d" width="12" height="4"/><text x="%.1f" y="%d">%s</text></g>`,
				esc(s.Class), lx, 11, lx+15, 16, esc(s.Name))
			lx += 22 + 6.5*float64(len(s.Name))
		}
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) // every run-derived string above went through esc
}

func dataAttrs(p point) string {
	if len(p.Data) == 0 {
		return ""
	}
	keys := make([]string, 0, len(p.Data))
	for k := range p.Data {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, ` data-%s="%s"`, esc(k), esc(p.Data[k]))
	}
	return b.String()
}

func esc(s string) string { return html.EscapeString(s) }

// fullNum keeps every digit of a float for data- attributes (tests and
// scripts read them back exactly).
func fullNum(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

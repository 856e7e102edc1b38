package web

import (
	"bytes"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"math"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/sia-agent/sia/report"
	"github.com/sia-agent/sia/runstore"
	"github.com/sia-agent/sia/trajectory"
)

// pageFiles are the page templates; each is parsed with layout.html.
var pageFiles = []string{"list.html", "run.html", "gen.html", "diff.html", "rollouts.html", "item.html"}

var funcs = template.FuncMap{
	"score": func(v *float64) string {
		if v == nil {
			return "—"
		}
		return fmt.Sprintf("%.4f", *v)
	},
	"f4":   func(v float64) string { return fmt.Sprintf("%.4f", v) },
	"num":  report.FormatNum,
	"secs": secs,
	"cost": func(v float64) string {
		if v <= 0 {
			return "—"
		}
		return fmt.Sprintf("$%.4f", v)
	},
	"full": fullNum,
	"best": func(b *report.Best) string {
		if b == nil {
			return "—"
		}
		return fmt.Sprintf("%.4f (gen %d)", b.Score, b.Gen)
	},
	"isnan": math.IsNaN,
	"inc":   func(i int) int { return i + 1 },
	"decision": func(gen int, kind string, d *report.Decision) decisionView {
		return decisionView{Gen: gen, Kind: kind, Decision: d}
	},
}

func parsePages() (map[string]*template.Template, error) {
	out := map[string]*template.Template{}
	for _, p := range pageFiles {
		t, err := template.New(p).Funcs(funcs).ParseFS(embedded, "templates/layout.html", "templates/"+p)
		if err != nil {
			return nil, fmt.Errorf("web: template %s: %w", p, err)
		}
		out[p] = t
	}
	return out, nil
}

// secs prints a duration in seconds: milliseconds below one second.
func secs(v float64) string {
	if v < 1 {
		return fmt.Sprintf("%.0fms", v*1000)
	}
	return fmt.Sprintf("%.1fs", v)
}

// page is what layout.html gets.
type page struct {
	Title string
	Crumb []crumb
	Live  string // the event stream to follow, if any
	Body  any
}

type crumb struct{ Name, Href string }

// render executes a page (or, with ?fragment=live, only its live part)
// into a buffer first, so an error never leaves half a page.
func (s *Server) render(w http.ResponseWriter, r *http.Request, name string, p page) {
	t := s.pages[name]
	var data any = p
	tmpl := "layout"
	if r.URL.Query().Get("fragment") == "live" && t.Lookup("live") != nil {
		tmpl, data = "live", p.Body
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, tmpl, data); err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(buf.Bytes())
}

func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, errNoRun):
		http.Error(w, "no such run", http.StatusNotFound)
	case errors.Is(err, fs.ErrNotExist):
		http.Error(w, "not found", http.StatusNotFound)
	default:
		s.cfg.Log.Error("web", "path", r.URL.Path, "err", err)
		http.Error(w, err.Error(), http.StatusInternalServerError)
	}
}

func (s *Server) handleList(w http.ResponseWriter, r *http.Request) {
	v := listView{RunsDir: s.cfg.RunsDir}
	root, err := s.openRuns()
	if err == nil {
		defer root.Close()
		entries, err := report.List(root.FS())
		if err != nil {
			s.fail(w, r, err)
			return
		}
		now := s.cfg.Now()
		for _, e := range entries {
			v.Runs = append(v.Runs, entryView{Entry: e, Age: report.Age(e.Updated, now)})
		}
	} else if errors.Is(err, os.ErrNotExist) {
		v.Missing = true
	} else {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, "list.html", page{Title: "runs", Live: "/events", Body: v})
}

// withRun opens the run named in the path.
func (s *Server) withRun(w http.ResponseWriter, r *http.Request, fn func(*report.Run)) {
	run, closeFn, err := s.openRun(r.PathValue("run"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	defer closeFn()
	fn(run)
}

func runCrumbs(name string, more ...crumb) []crumb {
	return append([]crumb{{"runs", "/"}, {name, "/run/" + name}}, more...)
}

func (s *Server) handleRun(w http.ResponseWriter, r *http.Request) {
	s.withRun(w, r, func(run *report.Run) {
		v, err := s.buildRun(run)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		s.render(w, r, "run.html", page{Title: run.Name, Crumb: runCrumbs(run.Name),
			Live: fmt.Sprintf("/run/%s/events?from=%d", run.Name, v.NextSeq), Body: v})
	})
}

// genParam reads {gen} and checks the run has it.
func genParam(r *http.Request, run *report.Run) (int, error) {
	g, err := strconv.Atoi(r.PathValue("gen"))
	if err != nil || g < 1 || g > len(run.Summary.Generations) {
		return 0, fmt.Errorf("run %s has no generation %q: %w", run.Name, r.PathValue("gen"), fs.ErrNotExist)
	}
	return g, nil
}

func (s *Server) handleGen(w http.ResponseWriter, r *http.Request) {
	s.withRun(w, r, func(run *report.Run) {
		gen, err := genParam(r, run)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		v, err := s.buildGen(run, gen)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		s.render(w, r, "gen.html", page{Title: fmt.Sprintf("%s · gen %d", run.Name, gen),
			Crumb: runCrumbs(run.Name, crumb{fmt.Sprintf("gen %d", gen), ""}), Body: v})
	})
}

func (s *Server) buildGen(run *report.Run, gen int) (*genView, error) {
	all := rows(run)
	v := &genView{Run: run.Name, Row: all[gen-1]}
	if gen > 1 {
		v.Prev = gen - 1
	}
	if gen < len(all) {
		v.Next = gen + 1
	}
	var err error
	if v.Decision, err = run.Decision(gen); err != nil {
		return nil, err
	}
	if v.Feedback, err = run.Feedback(gen); err != nil {
		return nil, err
	}
	if v.Improvement, err = run.Improvement(gen); err != nil {
		return nil, err
	}
	if v.Results, err = run.Results(gen); err != nil {
		return nil, err
	}
	if v.Results != nil {
		var keys []string
		for k := range v.Results.Counts {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			v.Counts = append(v.Counts, kv{k, strconv.Itoa(v.Results.Counts[k])})
		}
	}
	if v.Row.Action == "weights" {
		if v.Curves, err = curveViews(run, v.Row, nil); err != nil {
			return nil, err
		}
	}
	if src, err := run.Harness(gen); err == nil {
		v.HarnessFile = src.Name
		v.Code = strings.Split(strings.TrimSuffix(string(src.Code), "\n"), "\n")
		keys := make([]string, 0, len(src.Knobs))
		for k := range src.Knobs {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			v.Knobs = append(v.Knobs, kv{k, fmt.Sprint(src.Knobs[k])})
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	_, err = trajectory.Stat(run.FS(), runstore.GenFile(gen, runstore.RolloutsFile))
	v.HasRollouts = err == nil
	return v, nil
}

// diffView is the harness diff page.
type diffView struct {
	Run  string
	Form diffForm
	Diff *report.HarnessDiff
	Err  string
}

func (s *Server) handleDiff(w http.ResponseWriter, r *http.Request) {
	s.withRun(w, r, func(run *report.Run) {
		v := diffView{Run: run.Name, Form: defaultDiff(rows(run))}
		q := r.URL.Query()
		n := len(run.Summary.Generations)
		for _, p := range []struct {
			name string
			dst  *int
		}{{"from", &v.Form.From}, {"to", &v.Form.To}} {
			if q.Get(p.name) == "" {
				continue
			}
			g, err := strconv.Atoi(q.Get(p.name))
			if err != nil || g < 1 || g > n {
				http.Error(w, fmt.Sprintf("%s=%q: want a generation from 1 to %d", p.name, q.Get(p.name), n), http.StatusBadRequest)
				return
			}
			*p.dst = g
		}
		d, err := run.Diff(v.Form.From, v.Form.To)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			v.Err = err.Error()
		case err != nil:
			s.fail(w, r, err)
			return
		}
		v.Diff = d
		s.render(w, r, "diff.html", page{Title: fmt.Sprintf("%s · diff %d → %d", run.Name, v.Form.From, v.Form.To),
			Crumb: runCrumbs(run.Name, crumb{"harness diff", ""}), Body: v})
	})
}

// rolloutsPageSize is how many items one page of a generation lists.
const rolloutsPageSize = 100

func (s *Server) handleRollouts(w http.ResponseWriter, r *http.Request) {
	s.withRun(w, r, func(run *report.Run) {
		gen, err := genParam(r, run)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		trajs, err := s.rollouts.get(run, gen)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		all := itemRows(trajs)
		v := rolloutsView{Run: run.Name, Gen: gen, Filter: r.URL.Query().Get("status"), PageSize: rolloutsPageSize}
		seen := map[string]bool{}
		for _, t := range trajs {
			if !seen[t.Status] {
				seen[t.Status] = true
				v.Statuses = append(v.Statuses, t.Status)
			}
		}
		var sum float64
		for _, it := range all {
			sum += it.Mean
		}
		sort.Strings(v.Statuses)
		if len(all) > 0 {
			v.MeanScore = sum / float64(len(all))
		}
		var shown []itemRow
		for _, it := range all {
			if v.Filter == "" || strings.Contains(it.Statuses, v.Filter+" ×") {
				shown = append(shown, it)
			}
		}
		v.Total, v.Shown = len(all), len(shown)
		v.Pages = max(1, (len(shown)+rolloutsPageSize-1)/rolloutsPageSize)
		v.Page, _ = strconv.Atoi(r.URL.Query().Get("page"))
		v.Page = min(max(v.Page, 1), v.Pages)
		lo := (v.Page - 1) * rolloutsPageSize
		v.Items = shown[lo:min(lo+rolloutsPageSize, len(shown))]
		if v.Page > 1 {
			v.PrevPage = v.Page - 1
		}
		if v.Page < v.Pages {
			v.NextPage = v.Page + 1
		}
		s.render(w, r, "rollouts.html", page{Title: fmt.Sprintf("%s · gen %d rollouts", run.Name, gen),
			Crumb: runCrumbs(run.Name, crumb{fmt.Sprintf("gen %d", gen), fmt.Sprintf("/run/%s/gen/%d", run.Name, gen)},
				crumb{"rollouts", ""}), Body: v})
	})
}

func (s *Server) handleItem(w http.ResponseWriter, r *http.Request) {
	s.withRun(w, r, func(run *report.Run) {
		gen, err := genParam(r, run)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		id := r.URL.Query().Get("id")
		trajs, err := s.rollouts.get(run, gen)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		v := itemView{Run: run.Name, Gen: gen, ID: id, Samples: sampleViews(trajs, id)}
		if len(v.Samples) == 0 {
			http.Error(w, fmt.Sprintf("gen %d has no rollouts of item %q", gen, id), http.StatusNotFound)
			return
		}
		if res, err := run.Results(gen); err == nil && res != nil {
			for i := range res.Items {
				if res.Items[i].ID == id {
					v.Result = &res.Items[i]
				}
			}
		}
		genHref := fmt.Sprintf("/run/%s/gen/%d", run.Name, gen)
		s.render(w, r, "item.html", page{Title: fmt.Sprintf("%s · gen %d · %s", run.Name, gen, id),
			Crumb: runCrumbs(run.Name, crumb{fmt.Sprintf("gen %d", gen), genHref},
				crumb{"rollouts", genHref + "/rollouts"}, crumb{id, ""}), Body: v})
	})
}

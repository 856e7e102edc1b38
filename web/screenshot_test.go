package web_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestScreenshots writes the screenshots in docs/img from real run folders,
// when asked to:
//
//	SIA_SCREENSHOTS=$PWD/docs/img SIA_SCREENSHOT_RUNS=demo=$PWD/runs-demo/run_1,cipher=$PWD/runs-cipher/run_1 \
//	  go test ./web -run TestScreenshots
//
// Each run is copied into a fresh runs folder as <name>-<run>, served, and
// photographed in headless Chromium: the run page's top (scores, levers,
// generations), its training curves, and, for the first run, the run list,
// a harness diff and one trajectory.
func TestScreenshots(t *testing.T) {
	out, spec := os.Getenv("SIA_SCREENSHOTS"), os.Getenv("SIA_SCREENSHOT_RUNS")
	if out == "" || spec == "" {
		t.Skip("set SIA_SCREENSHOTS=DIR and SIA_SCREENSHOT_RUNS=name=RUN_DIR[,…] to write the docs' screenshots")
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	runs := t.TempDir()
	type shotRun struct{ name, run string }
	var list []shotRun
	for _, part := range strings.Split(spec, ",") {
		name, dir, ok := strings.Cut(part, "=")
		if !ok {
			t.Fatalf("SIA_SCREENSHOT_RUNS entry %q: want name=RUN_DIR", part)
		}
		run := name + "-" + filepath.Base(filepath.Clean(dir))
		copyDir(t, dir, filepath.Join(runs, run))
		list = append(list, shotRun{name, run})
	}
	ts, _ := serve(t, runs, "")
	ctx := browser(t, 3*time.Minute)
	shoot := func(file string, height int64, url, waitFor string, sel string) {
		t.Helper()
		do(t, ctx, chromedp.EmulateViewport(1280, height), chromedp.Navigate(ts.URL+url),
			chromedp.WaitVisible(chromedp.CSS(waitFor)), chromedp.Sleep(300*time.Millisecond))
		var png []byte
		var err error
		if sel == "" {
			png, err = chromedp.Run(ctx, chromedp.FullScreenshot(100))
		} else {
			png, err = chromedp.Run(ctx, chromedp.Screenshot(chromedp.CSS(sel)))
		}
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		p := filepath.Join(out, file)
		if err := os.WriteFile(p, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s (%d bytes)", p, len(png))
	}
	shoot("web-runs.png", 420, "/", "#runs", "")
	for i, r := range list {
		shoot(fmt.Sprintf("web-%s-run.png", r.name), 1280, "/run/"+r.run, "#gens", "")
		shoot(fmt.Sprintf("web-%s-training.png", r.name), 1000, "/run/"+r.run, "#training", "#training")
		if i > 0 {
			continue
		}
		shoot(fmt.Sprintf("web-%s-diff.png", r.name), 800, "/run/"+r.run+"/diff", "#diff", "")
		do(t, ctx, chromedp.Navigate(ts.URL+"/run/"+r.run), chromedp.WaitVisible(chromedp.CSS("#gens")))
		var href string
		eval(t, ctx, `(document.querySelector('#gens tbody tr.best a') || document.querySelector('#gens tbody tr a')).getAttribute('href')`, &href)
		do(t, ctx, chromedp.Navigate(ts.URL+href+"/rollouts"), chromedp.WaitVisible(chromedp.CSS("#items")))
		var item string
		eval(t, ctx, `(document.querySelector('#items tr.wrong a') || document.querySelector('#items tbody a')).getAttribute('href')`, &item)
		shoot(fmt.Sprintf("web-%s-trajectory.png", r.name), 800, item, ".sample", "")
	}
}

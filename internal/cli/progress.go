package cli

import (
	"fmt"
	"io"
	"sync"

	"github.com/schollz/progressbar/v3"

	"github.com/sia-agent/sia/loop"
)

// progressPrinter shows loop progress on stderr: a bar per step on a
// terminal, one plain line per generation otherwise.
type progressPrinter struct {
	w   io.Writer
	tty bool
	mu  sync.Mutex
	bar *progressbar.ProgressBar
	key string
}

func newProgressPrinter(w io.Writer, tty bool) *progressPrinter {
	return &progressPrinter{w: w, tty: tty}
}

func (p *progressPrinter) report(ev loop.Progress) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch ev.Kind {
	case "notice":
		p.clearBar()
		fmt.Fprintf(p.w, "sia: %s\n", ev.Text)
	case "step":
		if p.tty {
			p.clearBar()
			desc := fmt.Sprintf("gen %d %s", ev.Gen, ev.Step)
			if ev.Text != "" {
				desc += " (" + ev.Text + ")"
			}
			if ev.Total > 0 {
				p.key = fmt.Sprintf("%d/%s", ev.Gen, ev.Step)
				p.bar = progressbar.NewOptions(ev.Total, progressbar.OptionSetWriter(p.w),
					progressbar.OptionSetDescription(desc), progressbar.OptionShowCount(),
					progressbar.OptionSetWidth(30), progressbar.OptionClearOnFinish())
			} else {
				fmt.Fprintf(p.w, "sia: %s\n", desc)
			}
		} else if ev.Step == "test" || ev.Step == "train" || ev.Step == "update" {
			line := fmt.Sprintf("sia: gen %d %s", ev.Gen, ev.Step)
			if ev.Text != "" {
				line += " " + ev.Text
			}
			fmt.Fprintln(p.w, line)
		}
	case "items":
		if p.bar != nil && p.key == fmt.Sprintf("%d/%s", ev.Gen, ev.Step) {
			_ = p.bar.Set(ev.Done)
		}
	case "gen_done":
		p.clearBar()
		fmt.Fprintf(p.w, "sia: gen %d val score %.4f\n", ev.Gen, ev.Score)
	}
}

func (p *progressPrinter) clearBar() {
	if p.bar != nil {
		_ = p.bar.Finish()
		p.bar = nil
	}
}

func (p *progressPrinter) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clearBar()
}

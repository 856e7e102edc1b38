package llmagent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/sia-agent/sia/llm"
)

// Tool names, as the model sees them.
const (
	ToolListDir          = "list_dir"
	ToolReadFile         = "read_file"
	ToolWriteFile        = "write_file"
	ToolEditFile         = "edit_file"
	ToolDeleteFile       = "delete_file"
	ToolReadDocs         = "read_docs"
	ToolRunHarness       = "run_harness"
	ToolMeasureHarness   = "measure_harness"
	ToolSearchKnobs      = "search_knobs"
	ToolReadTrajectories = "read_trajectories"
	ToolRewardStats      = "reward_stats"
	ToolSubmitDecision   = "submit_decision"
)

// defaultReadLines is read_file's line limit when none is given.
const defaultReadLines = 2000

const pathDesc = "Path relative to the generation folder; docs/ and public/ are read-only folders."

// fileTools returns list_dir, read_file, write_file, edit_file and
// delete_file over ws.
func fileTools(ws *workspace) []Tool {
	return []Tool{listDirTool(ws), readFileTool(ws), writeFileTool(ws), editFileTool(ws), deleteFileTool(ws)}
}

func deleteFileTool(ws *workspace) Tool {
	return Tool{
		Spec: llm.Tool{
			Name: ToolDeleteFile,
			Description: "Delete a file of the generation folder, e.g. " + KnobsFile + " to let every knob take its first KNOBS candidate. " +
				"Deleting a file that does not exist is not an error.",
			Parameters: schema(map[string]prop{"path": {typ: "string", desc: "Path relative to the generation folder"}}, "path"),
		},
		Run: func(_ context.Context, raw json.RawMessage) (string, error) {
			var a struct {
				Path string `json:"path"`
			}
			if err := decodeArgs(raw, &a, "path"); err != nil {
				return "", err
			}
			if _, err := ws.ReadFile(a.Path); err != nil {
				if errors.Is(err, fs.ErrNotExist) {
					return fmt.Sprintf("%s does not exist: nothing to delete", a.Path), nil
				}
				return "", err
			}
			if err := ws.Remove(a.Path); err != nil {
				return "", err
			}
			return "deleted " + a.Path, nil
		},
	}
}

func listDirTool(ws *workspace) Tool {
	return Tool{
		Spec: llm.Tool{
			Name:        ToolListDir,
			Description: "List a folder. \".\" is the generation folder, which also shows docs/ (API reference) and public/ (the task's public data) when present.",
			Parameters:  schema(map[string]prop{"path": {typ: "string", desc: pathDesc}}, "path"),
		},
		Run: func(_ context.Context, raw json.RawMessage) (string, error) {
			var a struct {
				Path string `json:"path"`
			}
			if err := decodeArgs(raw, &a, "path"); err != nil {
				return "", err
			}
			es, total, err := ws.ListDir(a.Path)
			if err != nil {
				return "", err
			}
			return listing(es, total), nil
		},
	}
}

// listing renders a folder's entries, one a line, folders with a slash.
func listing(es []entry, total int) string {
	var b strings.Builder
	if len(es) == 0 {
		b.WriteString("(empty folder)\n")
	}
	for _, e := range es {
		if e.Dir {
			fmt.Fprintf(&b, "%s/\n", e.Name)
		} else {
			fmt.Fprintf(&b, "%s\t%d bytes\n", e.Name, e.Size)
		}
	}
	if total > len(es) {
		fmt.Fprintf(&b, "[%d more entries not shown]\n", total-len(es))
	}
	return b.String()
}

func readFileTool(ws *workspace) Tool {
	return Tool{
		Spec: llm.Tool{
			Name:        ToolReadFile,
			Description: "Read a text file. offset is the 0-based first line, limit the number of lines (default 2000). The first line of the result says which lines are shown.",
			Parameters: schema(map[string]prop{
				"path":   {typ: "string", desc: pathDesc},
				"offset": {typ: "integer", desc: "0-based first line to read", min: intPtr(0)},
				"limit":  {typ: "integer", desc: "number of lines to read", min: intPtr(1)},
			}, "path"),
		},
		Run: func(_ context.Context, raw json.RawMessage) (string, error) {
			var a struct {
				Path   string `json:"path"`
				Offset *int   `json:"offset"`
				Limit  *int   `json:"limit"`
			}
			if err := decodeArgs(raw, &a, "path"); err != nil {
				return "", err
			}
			off, lim := 0, defaultReadLines
			if a.Offset != nil {
				off = *a.Offset
			}
			if a.Limit != nil {
				lim = *a.Limit
			}
			if off < 0 || lim < 1 {
				return "", fmt.Errorf("offset must be ≥ 0 and limit ≥ 1 (got %d, %d)", off, lim)
			}
			b, err := ws.ReadFile(a.Path)
			if err != nil {
				return "", err
			}
			return sliceLines(a.Path, string(b), off, lim), nil
		},
	}
}

func writeFileTool(ws *workspace) Tool {
	return Tool{
		Spec: llm.Tool{
			Name:        ToolWriteFile,
			Description: "Create or replace a file in the generation folder with content.",
			Parameters: schema(map[string]prop{
				"path":    {typ: "string", desc: "Path relative to the generation folder, e.g. harness.star"},
				"content": {typ: "string", desc: "The whole new content of the file"},
			}, "path", "content"),
		},
		Run: func(_ context.Context, raw json.RawMessage) (string, error) {
			var a struct {
				Path    string `json:"path"`
				Content string `json:"content"`
			}
			if err := decodeArgs(raw, &a, "path", "content"); err != nil {
				return "", err
			}
			if err := ws.WriteFile(a.Path, []byte(a.Content)); err != nil {
				return "", err
			}
			return fmt.Sprintf("wrote %s (%d bytes, %d lines)", a.Path, len(a.Content), countLines(a.Content)), nil
		},
	}
}

func editFileTool(ws *workspace) Tool {
	return Tool{
		Spec: llm.Tool{
			Name:        ToolEditFile,
			Description: "Replace the one occurrence of old with new in a file of the generation folder. old must match exactly once, whitespace included.",
			Parameters: schema(map[string]prop{
				"path": {typ: "string", desc: "Path relative to the generation folder"},
				"old":  {typ: "string", desc: "Exact text to replace; must occur exactly once"},
				"new":  {typ: "string", desc: "Replacement text"},
			}, "path", "old", "new"),
		},
		Run: func(_ context.Context, raw json.RawMessage) (string, error) {
			var a struct {
				Path string `json:"path"`
				Old  string `json:"old"`
				New  string `json:"new"`
			}
			if err := decodeArgs(raw, &a, "path", "old", "new"); err != nil {
				return "", err
			}
			if a.Old == "" {
				return "", fmt.Errorf("old is empty; use write_file to create a file")
			}
			b, err := ws.ReadFile(a.Path)
			if err != nil {
				return "", err
			}
			s, err := replaceOnce(a.Path, string(b), a.Old, a.New)
			if err != nil {
				return "", err
			}
			if err := ws.WriteFile(a.Path, []byte(s)); err != nil {
				return "", err
			}
			return fmt.Sprintf("edited %s (now %d lines)", a.Path, countLines(s)), nil
		},
	}
}

// replaceOnce replaces the one occurrence of old (not empty) in s, the text
// of file name; no occurrence, or more than one, is an error that says what
// to do.
func replaceOnce(name, s, old, new string) (string, error) {
	switch n := strings.Count(s, old); n {
	case 0:
		return "", fmt.Errorf("old text not found in %s (read_file it and copy the text exactly)", name)
	case 1:
		return strings.Replace(s, old, new, 1), nil
	default:
		return "", fmt.Errorf("old text occurs %d times in %s; include more context so it matches once", n, name)
	}
}

// sliceLines returns lines [off, off+lim) of s under a header line.
func sliceLines(name, s string, off, lim int) string {
	lines := strings.SplitAfter(s, "\n")
	if len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	n := len(lines)
	if off >= n {
		return fmt.Sprintf("[%s: %d lines; offset %d is past the end]\n", name, n, off)
	}
	end := min(off+lim, n)
	var b strings.Builder
	fmt.Fprintf(&b, "[%s: lines %d-%d of %d]\n", name, off+1, end, n)
	for _, l := range lines[off:end] {
		b.WriteString(l)
	}
	if end < n {
		fmt.Fprintf(&b, "\n[%d more lines; read_file with offset %d]\n", n-end, end)
	}
	return b.String()
}

func countLines(s string) int {
	if s == "" {
		return 0
	}
	n := strings.Count(s, "\n")
	if !strings.HasSuffix(s, "\n") {
		n++
	}
	return n
}

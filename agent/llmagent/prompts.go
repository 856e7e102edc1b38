package llmagent

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
	"text/template"

	"github.com/sia-agent/sia/agent"
	"github.com/sia-agent/sia/rl"
	"github.com/sia-agent/sia/verify"
)

// PromptVersion is the prompt set used when Config.PromptVersion is "".
// Prompts are versioned files, prompts/<role>_<part>.<version>.tmpl; a
// changed prompt gets a new version so runs stay comparable.
const PromptVersion = "v2"

// Prompt parts.
const (
	promptMetaSystem     = "meta_system"
	promptMetaUser       = "meta_user"
	promptFeedbackSystem = "feedback_system"
	promptFeedbackUser   = "feedback_user"
)

//go:embed prompts/*.tmpl
var promptFiles embed.FS

// maxFailures bounds the failure sample in the feedback prompt.
const maxFailures = 8

// prompts is a parsed prompt set of one version.
type prompts struct {
	version string
	t       *template.Template
}

func loadPrompts(version string) (*prompts, error) {
	if version == "" {
		version = PromptVersion
	}
	funcs := template.FuncMap{
		"join": strings.Join,
		"clip": func(s string, n int) string { return clip(strings.Join(strings.Fields(s), " "), n) },
		"num":  formatNum,
		"inc":  func(n int) int { return n + 1 },
	}
	t, err := template.New("").Funcs(funcs).Option("missingkey=error").ParseFS(promptFiles, "prompts/*."+version+".tmpl")
	if err != nil {
		return nil, fmt.Errorf("load prompts %s: %w", version, err)
	}
	p := &prompts{version: version, t: t}
	for _, part := range []string{promptMetaSystem, promptMetaUser, promptFeedbackSystem, promptFeedbackUser} {
		if p.t.Lookup(p.file(part)) == nil {
			return nil, fmt.Errorf("load prompts %s: %s is missing", version, p.file(part))
		}
	}
	return p, nil
}

func (p *prompts) file(part string) string { return part + "." + p.version + ".tmpl" }

func (p *prompts) render(part string, data any) (string, error) {
	var b bytes.Buffer
	if err := p.t.ExecuteTemplate(&b, p.file(part), data); err != nil {
		return "", fmt.Errorf("render prompt %s: %w", p.file(part), err)
	}
	return b.String(), nil
}

// formatNum prints a score compactly: 0.4375, 12, 1.5e-05.
func formatNum(f float64) string { return strconv.FormatFloat(f, 'g', 4, 64) }

// commonData is shared by both roles' prompts.
type commonData struct {
	TaskName    string
	TaskDoc     string
	Runtime     string
	RuntimeName string
	IsStarlark  bool
	HarnessName string
	KnobsFile   string
	HasKnobs    bool
	Knobs       string // knobs.json as written
	// EditFiles names what a harness edit changes, for this runtime.
	EditFiles string
	// DocText is docs/harness.md as the prompt carries it (introduction,
	// index, the sections the harness uses); DocOmitted lists the other
	// sections, which read_docs fetches.
	DocText    string
	DocOmitted string
	HasDocs    bool
	HasPublic  bool
	// ReadOnly names the read-only folders that exist: "docs/ is",
	// "docs/ and public/ are", or "".
	ReadOnly      string
	HasReference  bool
	HasMeasure    bool
	TrainSize     int
	MaxTryItems   int
	MeasureBudget int
	DefaultFolds  int
	MaxTurns      int
}

func newCommonData(taskName, taskDoc, runtime, name string, knobs map[string]any, docsFS, public fs.FS, hasMeasure bool, trainSize int, cfg Config, code ...[]byte) commonData {
	d := commonData{TaskName: taskName, TaskDoc: strings.TrimSpace(taskDoc), Runtime: runtime, HarnessName: name, KnobsFile: KnobsFile,
		HasPublic: public != nil, HasMeasure: hasMeasure, TrainSize: trainSize, MaxTryItems: cfg.MaxTryItems,
		MeasureBudget: cfg.MeasureBudget, DefaultFolds: defaultFolds, MaxTurns: cfg.MaxTurns}
	if d.Runtime == "" {
		d.Runtime = "starlark"
		if name == PythonFile {
			d.Runtime = "python"
		}
	}
	d.IsStarlark = d.Runtime != "python"
	d.RuntimeName = "Starlark"
	d.EditFiles = fmt.Sprintf("%s (the harness) and %s (its knob settings: one value per KNOBS knob; delete it to give every knob its first candidate)", name, KnobsFile)
	if !d.IsStarlark {
		d.RuntimeName = "Python"
		d.EditFiles = fmt.Sprintf("%s (the harness; %s, if present, reaches it as the JSON in SIA_KNOBS)", name, KnobsFile)
	}
	if hd := loadHarnessDocs(docsFS); hd != nil {
		d.HasDocs = true
		var omitted []string
		d.DocText, omitted = hd.forPrompt(d.Runtime, code...)
		d.DocOmitted = strings.Join(omitted, ", ")
	}
	switch {
	case d.HasDocs && d.HasPublic:
		d.ReadOnly = "docs/ and public/ are"
	case d.HasDocs:
		d.ReadOnly = "docs/ is"
	case d.HasPublic:
		d.ReadOnly = "public/ is"
	}
	if len(knobs) > 0 {
		b, _ := json.MarshalIndent(knobs, "", "  ")
		d.HasKnobs, d.Knobs = true, string(b)
	}
	return d
}

// metaData feeds the meta prompts.
type metaData struct {
	commonData
	Reference string
}

func newMetaData(in *agent.MetaInput, name string, cfg Config) metaData {
	d := metaData{
		commonData: newCommonData(in.TaskName, in.TaskDoc, in.Runtime, name, in.Reference.Knobs, in.Docs, in.Public, in.Measure != nil,
			in.TrainSize, cfg, in.Reference.Code),
		Reference: string(trimNewlines(in.Reference.Code)),
	}
	d.HasReference = d.Reference != ""
	// A SIA task folder's example descriptions and sample trajectory go
	// with the task, as SIA's meta prompt gives them.
	if x := strings.TrimSpace(in.SampleTasks); x != "" {
		d.TaskDoc += "\n\n## Sample task descriptions (reference/SAMPLE_TASK_DESCRIPTIONS.md)\n\n" + x
	}
	if x := strings.TrimSpace(in.SampleExecution); x != "" {
		d.TaskDoc += "\n\n## A sample agent execution trajectory (_shared/sample_agent_execution.json)\n\n```json\n" + clip(x, 8000) + "\n```" // a sample, not a log
	}
	return d
}

// algorithmUse says when each algorithm fits, for the feedback prompt.
func algorithmUse(a rl.Algorithm) string {
	switch a {
	case rl.PPO:
		return "PPO-clip with GAE and a value head; a clean outcome reward per sample"
	case rl.Entropic:
		return "entropic advantage weighting, weights ∝ exp(β·r); most rollouts fail and a few are better"
	case rl.GRPO:
		return "group-normalised advantages over K samples per item; samples of the same item disagree"
	case rl.ReinforceKL:
		return "REINFORCE with a baseline and a KL-to-base penalty; the adapter drifts from the base"
	case rl.DPO:
		return "direct preference optimisation on best-vs-worst sample pairs of an item; clear good/bad pairs"
	case rl.BestOfN:
		return "behavioural cloning of the top samples; successes are rare but reliable"
	}
	return string(a)
}

type algorithmHelp struct {
	Name rl.Algorithm
	Use  string
}

// failureView is one failed val item in the feedback prompt: its fields
// (never its label), the answer and the verifier's gold-free detail.
type failureView struct {
	ID, Status, Output, Detail string
	Fields                     string
	Reward                     float64
}

// feedbackData feeds the feedback prompts.
type feedbackData struct {
	commonData
	Mode            string
	CanTrain        bool
	AllowedActions  []string
	Algorithms      []algorithmHelp
	ForcedAlgorithm rl.Algorithm
	TrainPlan       string
	Gen             int
	RemainingGens   int
	Budget          string
	Higher          bool
	History         []historyRow
	HasAcceptance   bool
	Incumbent       int
	Trainings       []string
	Memory          []string
	Baseline        string
	Metric          string
	Score           float64
	N               int
	Counts          string
	CurrentSHA      string
	IncumbentSHA    string
	SameAsIncumbent bool
	StatsLine       string
	TrainStatsLine  string
	Recommended     rl.Algorithm
	RecommendedWhy  string
	Overall         string
	Clusters        []string
	Failures        []failureView
	MoreFailures    int
	IncumbentCode   string
	Declared        string
}

func newFeedbackData(in *agent.FeedbackInput, name string, cfg Config) feedbackData {
	d := feedbackData{
		commonData: newCommonData(in.TaskName, in.TaskDoc, "", name, in.Incumbent.Knobs, in.Docs, in.Public, in.Measure != nil,
			in.TrainSize, cfg, in.Incumbent.Code),
		Mode: modeOf(in.Mode), CanTrain: in.CanTrain, AllowedActions: allowedActions(in.Mode, in.CanTrain),
		ForcedAlgorithm: in.ForcedAlgorithm, Gen: in.Gen, RemainingGens: in.RemainingGens, Higher: in.Higher,
		CurrentSHA: in.Current.SHA(), IncumbentSHA: in.Incumbent.SHA(),
		StatsLine: statsLine(in.Stats), Recommended: in.Recommended, IncumbentCode: strings.TrimRight(string(in.Incumbent.Code), "\n"),
		Budget: budgetLine(in.Budget, in.RemainingGens), TrainPlan: trainPlanLine(in.TrainPlan),
	}
	d.SameAsIncumbent = d.CurrentSHA == d.IncumbentSHA
	for _, a := range rl.Algorithms {
		d.Algorithms = append(d.Algorithms, algorithmHelp{Name: a, Use: algorithmUse(a)})
	}
	if a, why := rl.Select(in.Stats); a == in.Recommended {
		d.RecommendedWhy = why // also why none, when nothing can be learned
	}
	d.History, d.HasAcceptance, d.Incumbent = historyRows(in.History)
	d.Trainings = trainingLines(in.History)
	d.Memory, d.Baseline = memoryLines(in.Memory)
	if tr := in.TrainRollouts; tr != nil {
		d.TrainStatsLine = fmt.Sprintf("train rollouts of generation %d (harness %s over adapter v%d): %s", tr.Gen, tr.HarnessSHA, tr.AdapterVersion, statsLine(tr.Stats))
	}
	if r := in.Results; r != nil {
		d.Metric, d.Score, d.N, d.Counts = r.Metric, r.Score, r.N, formatCounts(r.Counts)
		fields := map[string]map[string]any{}
		for _, it := range in.Items {
			fields[it.ID] = it.Fields
		}
		d.Failures, d.MoreFailures = sampleFailures(r.Items, fields, in.Seed)
		d.Overall, d.Clusters = clusterLines(r.Items, fields)
	}
	if len(in.Decl.Knobs) > 0 {
		b, _ := json.Marshal(in.Decl.Knobs)
		d.Declared = string(b)
	}
	return d
}

func statsLine(s rl.Stats) string {
	support := "continuous"
	if s.Binary {
		support = "binary"
	}
	line := fmt.Sprintf("%d samples over %d items (%.3g per item); success rate %.1f%%; mean %.4g, variance %.4g; within-item variance %.4g; items with disagreeing samples %.1f%%; failed (error/invalid/missing) %.1f%%; %s rewards; skewness %.3g",
		s.N, s.Items, s.SamplesPerItem, 100*s.SuccessRate, s.Mean, s.Variance, s.WithinItemVar, 100*s.MixedItems, 100*s.FailedFrac, support, s.Skewness)
	if s.HeavyTail {
		line += " (heavy tail)"
	}
	line += fmt.Sprintf("; KL to base %.4g; %d samples carry token ids", s.KLToBase, s.TokenSamples)
	return line
}

func formatCounts(c map[string]int) string {
	keys := make([]string, 0, len(c))
	for k := range c {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", k, c[k])
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

// sampleFailures picks up to maxFailures non-correct items, seeded so a
// rerun shows the same ones, kept in result order, with their fields.
func sampleFailures(items []verify.ItemResult, fields map[string]map[string]any, seed int64) ([]failureView, int) {
	var idx []int
	for i, it := range items {
		if it.Status != verify.StatusCorrect {
			idx = append(idx, i)
		}
	}
	total := len(idx)
	if total > maxFailures {
		rng := rand.New(rand.NewPCG(uint64(seed), 0xfa11))
		rng.Shuffle(len(idx), func(i, j int) { idx[i], idx[j] = idx[j], idx[i] })
		idx = idx[:maxFailures]
		sort.Ints(idx)
	}
	out := make([]failureView, len(idx))
	for i, j := range idx {
		it := items[j]
		out[i] = failureView{ID: it.ID, Status: it.Status, Reward: it.Reward,
			Output: clip(it.Output, maxAnswerChars), Detail: clip(it.Detail, maxAnswerChars)}
		if f := fields[it.ID]; len(f) > 0 {
			out[i].Fields = mustJSON(clipFieldsTo(f, 120))
		}
	}
	return out, total - len(out)
}

// clusterLines renders the val failure clusters.
func clusterLines(items []verify.ItemResult, fields map[string]map[string]any) (string, []string) {
	rows := make([]clusterRow, len(items))
	for i, it := range items {
		rows[i] = clusterRow{Fields: fields[it.ID], Answer: it.Output, Failed: it.Status != verify.StatusCorrect}
	}
	overall, cs := failureClusters(rows)
	var out []string
	for _, c := range cs {
		out = append(out, fmt.Sprintf("%s = %s: %d of %d fail (%.0f%%), %.1f more failures than the overall rate predicts",
			c.Field, c.Value, c.Failed, c.Items, 100*c.Rate, c.Excess))
	}
	return fmt.Sprintf("%.1f%% of %d val items fail", 100*overall, len(items)), out
}

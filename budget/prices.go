package budget

import (
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/sia-agent/sia/llm"
)

// PricesFormatVersion is the prices.json format this package reads.
const PricesFormatVersion = 1

// UserPricesFile is the name of the user's price file in the sia config folder.
const UserPricesFile = "prices.json"

//go:embed prices.json
var bundledPrices []byte

// Price is what a model costs, in USD per million tokens.
type Price struct {
	Model         string  `json:"model"`
	InputPerMTok  float64 `json:"input_usd_per_mtok"`
	OutputPerMTok float64 `json:"output_usd_per_mtok"`
}

// Cost is the price of u.
func (p Price) Cost(u llm.Usage) float64 {
	return (float64(u.PromptTokens)*p.InputPerMTok + float64(u.CompletionTokens)*p.OutputPerMTok) / 1e6
}

// priceFile is the on-disk format.
type priceFile struct {
	FormatVersion int     `json:"format_version"`
	AsOf          string  `json:"as_of,omitempty"`
	Note          string  `json:"note,omitempty"`
	Models        []Price `json:"models"`
}

// Prices is an immutable price table.
type Prices struct {
	byModel map[string]Price
}

// ParsePrices reads a prices.json document.
func ParsePrices(data []byte) (*Prices, error) {
	var f priceFile
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("parse prices: %w", err)
	}
	if f.FormatVersion != PricesFormatVersion {
		return nil, fmt.Errorf("parse prices: format_version %d, want %d", f.FormatVersion, PricesFormatVersion)
	}
	p := &Prices{byModel: make(map[string]Price, len(f.Models))}
	for i, m := range f.Models {
		if m.Model == "" {
			return nil, fmt.Errorf("parse prices: entry %d has no model", i)
		}
		if m.InputPerMTok < 0 || m.OutputPerMTok < 0 {
			return nil, fmt.Errorf("parse prices: %q has a negative price", m.Model)
		}
		if _, dup := p.byModel[m.Model]; dup {
			return nil, fmt.Errorf("parse prices: %q listed twice", m.Model)
		}
		p.byModel[m.Model] = m
	}
	return p, nil
}

// Bundled returns the price table shipped with sia.
func Bundled() *Prices {
	p, err := ParsePrices(bundledPrices)
	if err != nil {
		// prices.json is compiled in and covered by tests; an error here
		// means a broken build, not bad user input.
		return &Prices{byModel: map[string]Price{}}
	}
	return p
}

// LoadPrices returns the bundled table overridden by dir/prices.json when
// that file exists (dir is the sia user config folder; "" skips it).
func LoadPrices(dir string) (*Prices, error) {
	p := Bundled()
	if dir == "" {
		return p, nil
	}
	path := filepath.Join(dir, UserPricesFile)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return p, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load prices %q: %w", path, err)
	}
	user, err := ParsePrices(data)
	if err != nil {
		return nil, fmt.Errorf("load prices %q: %w", path, err)
	}
	return p.Merge(user), nil
}

// Merge returns a table with q's entries added to p's, q winning on a clash.
func (p *Prices) Merge(q *Prices) *Prices {
	out := &Prices{byModel: make(map[string]Price, len(p.byModel)+len(q.byModel))}
	for k, v := range p.byModel {
		out.byModel[k] = v
	}
	for k, v := range q.byModel {
		out.byModel[k] = v
	}
	return out
}

// dateSuffix matches the version dates providers append to model names:
// -20250929, -2025-04-14.
var dateSuffix = regexp.MustCompile(`-(\d{8}|\d{4}-\d{2}-\d{2})$`)

// Lookup finds the price of model: exactly, then without a date suffix,
// then without a provider prefix ("openai/").
func (p *Prices) Lookup(model string) (Price, bool) {
	if p == nil || model == "" {
		return Price{}, false
	}
	names := []string{model, dateSuffix.ReplaceAllString(model, "")}
	if i := strings.LastIndex(model, "/"); i >= 0 {
		base := model[i+1:]
		names = append(names, base, dateSuffix.ReplaceAllString(base, ""))
	}
	for _, n := range names {
		if pr, ok := p.byModel[n]; ok {
			return pr, true
		}
	}
	return Price{}, false
}

// Len is the number of priced models.
func (p *Prices) Len() int { return len(p.byModel) }

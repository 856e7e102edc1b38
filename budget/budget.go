package budget

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"

	"github.com/sia-agent/sia/llm"
)

// ErrBudget is wrapped by every error a Budget returns for a refused call.
var ErrBudget = errors.New("budget exhausted")

// Limits caps one run. A zero field means no limit on that quantity.
type Limits struct {
	USD    float64 // dollars, priced from the table
	Tokens int     // prompt + completion tokens
}

// Budget counts what a run's model calls spend. It is safe for concurrent use.
type Budget struct {
	limits Limits
	prices *Prices

	mu       sync.Mutex
	spent    llm.Usage
	calls    int
	unpriced map[string]int // model → calls that had no price
}

// New returns a budget with limits, pricing calls from prices (nil: Bundled).
func New(limits Limits, prices *Prices) (*Budget, error) {
	if limits.USD < 0 || limits.Tokens < 0 {
		return nil, fmt.Errorf("budget limits must not be negative (usd %g, tokens %d)", limits.USD, limits.Tokens)
	}
	if prices == nil {
		prices = Bundled()
	}
	return &Budget{limits: limits, prices: prices, unpriced: map[string]int{}}, nil
}

// Check reports, before any work, whether model can be held to the dollar
// limit: with a USD limit set, a model missing from the price table is an
// error (its calls would cost an unknown amount).
func (b *Budget) Check(model string) error {
	if b.limits.USD == 0 {
		return nil
	}
	if _, ok := b.prices.Lookup(model); !ok {
		return fmt.Errorf("no price for model %q, so a dollar budget cannot be enforced: add it to %s in the sia config folder", model, UserPricesFile)
	}
	return nil
}

// Spent is the usage counted so far; CostUSD is the priced total.
func (b *Budget) Spent() llm.Usage {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.spent
}

// Calls is the number of completed calls counted.
func (b *Budget) Calls() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.calls
}

// Unpriced lists the models that were called without a known price.
func (b *Budget) Unpriced() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]string, 0, len(b.unpriced))
	for m := range b.unpriced {
		out = append(out, m)
	}
	sort.Strings(out)
	return out
}

// Err is nil while the budget allows another call, else an error wrapping
// ErrBudget that says which limit was reached.
func (b *Budget) Err() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.errLocked()
}

func (b *Budget) errLocked() error {
	if b.limits.Tokens > 0 {
		if used := b.spent.PromptTokens + b.spent.CompletionTokens; used >= b.limits.Tokens {
			return fmt.Errorf("%w: used %d of %d tokens", ErrBudget, used, b.limits.Tokens)
		}
	}
	if b.limits.USD > 0 && b.spent.CostUSD >= b.limits.USD {
		return fmt.Errorf("%w: spent $%.4f of $%.2f", ErrBudget, b.spent.CostUSD, b.limits.USD)
	}
	return nil
}

// charge prices c (unless the provider already did), fills c.Usage.CostUSD
// and adds it to the total.
func (b *Budget) charge(model string, c *llm.Completion) {
	name := c.Model
	if name == "" {
		name = model
	}
	price, priced := b.prices.Lookup(name)
	if c.Usage.CostUSD == 0 && priced {
		c.Usage.CostUSD = price.Cost(c.Usage)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.calls++
	b.spent = b.spent.Add(c.Usage)
	if !priced && c.Usage.CostUSD == 0 {
		b.unpriced[name]++
	}
}

// Model is an llm.Model whose calls are counted against a Budget.
type Model struct {
	budget *Budget
	inner  llm.Model
	name   string
}

var _ llm.Model = (*Model)(nil)

// Wrap returns inner counted against b. name is the model's name for
// pricing when neither the completion nor the request names it.
func (b *Budget) Wrap(inner llm.Model, name string) *Model {
	return &Model{budget: b, inner: inner, name: name}
}

// Chat refuses the call once the budget is spent, else calls the inner
// model and charges its usage.
func (m *Model) Chat(ctx context.Context, req llm.Request) (*llm.Completion, error) {
	if err := m.budget.Err(); err != nil {
		return nil, err
	}
	c, err := m.inner.Chat(ctx, req)
	if err != nil {
		return nil, err
	}
	name := m.name
	if req.Model != "" {
		name = req.Model
	}
	m.budget.charge(name, c)
	return c, nil
}

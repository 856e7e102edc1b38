// Package budget enforces a per-run token and dollar budget on model calls
// and prices them from a table.
//
// A Budget wraps any llm.Model. Each completion's usage is counted, its
// Usage.CostUSD is filled from the price table (a price the provider reported
// itself, such as OpenRouter's usage.cost, is kept), and once the run has
// spent its tokens or dollars every further call is refused with an error
// wrapping ErrBudget. The check happens before each call, so calls already in
// flight when the limit is crossed may overshoot it by their own usage.
//
// Prices are USD per million tokens. The bundled table (prices.json) lists
// common hosted models at their list prices on the date it names; users add
// or override entries with a prices.json in their sia config folder
// (LoadPrices). Model names match exactly, then without a date suffix
// ("claude-sonnet-4-5-20250929" → "claude-sonnet-4-5"), then without a
// provider prefix ("openai/gpt-4.1" → "gpt-4.1").
package budget

// Package e2e holds end-to-end tests that run the generation loop with
// every model behind an httptest server speaking a real provider wire
// format. It has no library code.
package e2e

package tinylm

// tensor is one named parameter. w holds the values in row-major order; g
// is its gradient, nil while the tensor is frozen.
type tensor struct {
	name  string
	shape []int
	w     []float32
	g     []float32
}

func newTensor(name string, shape ...int) *tensor {
	n := 1
	for _, s := range shape {
		n *= s
	}
	return &tensor{name: name, shape: shape, w: make([]float32, n)}
}

func (t *tensor) size() int { return len(t.w) }

// trainable allocates the gradient.
func (t *tensor) trainable() {
	if t.g == nil {
		t.g = make([]float32, len(t.w))
	}
}

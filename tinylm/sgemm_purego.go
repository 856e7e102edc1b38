//go:build !amd64 || purego

package tinylm

// availableKernels lists the kernel sets this build runs: only the pure-Go
// one (other architectures and purego builds have no assembly kernels).
func availableKernels() []*kernelSet { return []*kernelSet{&goKernels} }

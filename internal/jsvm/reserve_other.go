//go:build !linux

package jsvm

// reserve is not attempted off Linux: the engine's blocks come from libc.
func reserve(int) (uintptr, bool) { return 0, false }

func populate(p, n uintptr) {}

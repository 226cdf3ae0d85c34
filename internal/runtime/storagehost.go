package runtime

import "github.com/isola-run/isola/internal/storage"

// storageHost adds the host functions behind ctx.storage (68_storage.js).
func (iso *Isolate) storageHost(fns map[string]any) {}

// PLACEHOLDER written by the lead so that actor.go compiles: the
// storage-js helper replaces everything below with the real thing (same
// signatures).

type storeOptions struct {
	Facet  bool
	Legacy bool
}

type storeFailure struct {
	Handle int
	Err    error
}

func (iso *Isolate) addStore(s *storage.Store, o storeOptions) int { return 0 }
func (iso *Isolate) dropStore(h int)                                {}
func (iso *Isolate) commitStores() []storeFailure                   { return nil }
func (iso *Isolate) storesDirty() bool                              { return false }

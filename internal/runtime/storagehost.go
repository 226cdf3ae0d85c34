package runtime

// storageHost adds the host functions behind ctx.storage (68_storage.js).
func (iso *Isolate) storageHost(fns map[string]any) {}

package runtime

// actorHost adds the host functions behind Durable Object namespaces, stubs
// and facets (67_actor.js).
func (iso *Isolate) actorHost(fns map[string]any) {}

package runtime

import (
	"errors"
	"log"
	"maps"
	"os"
	"reflect"
	"sync"

	"github.com/isola-run/isola/internal/jsvm"
	jsprelude "github.com/isola-run/isola/internal/runtime/js"
	"modernc.org/quickjs"
)

// Every isolate starts with the same prelude, so the first to start builds
// a jsvm.Snapshot of a VM the prelude has run in, and each isolate after it
// starts as a copy of that VM (bootClone) instead of making a context and
// running the prelude (bootPrelude). ISOLA_SNAPSHOT=off starts every isolate
// the long way, as does the JavaScript profiler (its hooks are set as a VM
// is made).
var snapshotOff = os.Getenv("ISOLA_SNAPSHOT") == "off"

type preludeSnapshot struct {
	once sync.Once
	snap *jsvm.Snapshot
	host *jsvm.HostBinding // the Go side of its host functions, for every clone
}

var preludeSnapshots sync.Map // *jsprelude.Compiled -> *preludeSnapshot

// preludeSnapshotFor returns pre's snapshot, building it on first use, or
// nil when isolates start without one.
func preludeSnapshotFor(pre *jsprelude.Compiled) *preludeSnapshot {
	if snapshotOff || jsProfiling {
		return nil
	}
	v, _ := preludeSnapshots.LoadOrStore(pre, &preludeSnapshot{})
	ps := v.(*preludeSnapshot)
	ps.once.Do(func() {
		snap, err := buildPreludeSnapshot(pre)
		if err != nil {
			// Isolates still start, only slower; the tests build the
			// snapshot, so this is news to the developer, not the user.
			log.Printf("isola: isolates start without a snapshot: %v", err)
			return
		}
		fns := maps.Clone(isolateHost)
		fns[adoptHost] = (*Isolate).adopt
		maps.Copy(fns, pre.HostFuncs())
		host, err := snap.NewHostBinding(fns, reflect.TypeFor[*Isolate]())
		if err != nil {
			log.Printf("isola: isolates start without a snapshot: %v", err)
			return
		}
		ps.snap, ps.host = snap, host
	})
	if ps.snap == nil {
		return nil
	}
	return ps
}

func buildPreludeSnapshot(pre *jsprelude.Compiled) (*jsvm.Snapshot, error) {
	return jsvm.NewSnapshot(func() (*quickjs.VM, []quickjs.Value, error) {
		t := &Isolate{
			limits:    DefaultLimits,
			logf:      func(string, string) {},
			timerByID: map[int]*timerEntry{},
			inflight:  map[int]*inflight{},
			bodies:    map[int]*bodySource{},
		}
		err := t.bootPrelude(pre)
		if t.rejections != nil {
			t.rejections.Close()
		}
		if err != nil {
			return t.vm, nil, err
		}
		// What a clone gets in Go is what bootClone sets: the dispatch
		// function and its host functions, nothing else.
		if t.hostPending || t.settlersSet || len(t.groups) > 0 || len(t.handles) > 0 || len(t.timerByID) > 0 || t.pendingOps > 0 || t.nextID > 0 || t.nextHandle > 0 {
			return t.vm, nil, errors.New("the prelude's start left state in Go that a clone would not have")
		}
		return t.vm, []quickjs.Value{t.dispatch}, nil
	})
}

// bootClone starts the isolate as a copy of snap.
func (iso *Isolate) bootClone(snap *preludeSnapshot) error {
	vm, values, err := snap.snap.Clone()
	if err != nil {
		return err
	}
	iso.vm = vm
	vm.SetMemoryLimit(iso.limits.Memory)
	vm.SetModuleLoader(missingModule, normalizeModule)
	iso.rejections = jsvm.TrackRejections(vm)
	if err := jsvm.BindHost(vm, snap.host, iso); err != nil {
		return err
	}
	iso.adoptRegistered = true
	iso.dispatch, iso.dispatchSet = values[0], true
	return vm.SetEvalTimeout(iso.limits.CPU)
}

package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/isola-run/isola/internal/testutil/reference"
)

// The statically bound variant must run the example's tenant code, word for
// word, or the benchmark's dynamic/static figure compares different work.
func TestStaticVariantRunsTheExamplesTenantCode(t *testing.T) {
	root, err := reference.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	static, err := os.ReadFile(filepath.Join(root, "bench", "workers", "dynamic-workflows-static", "worker.js"))
	if err != nil {
		t.Fatal(err)
	}
	example, err := os.ReadFile(filepath.Join(root, "..", "shared", "examples", "dynamic-workflows", "worker.js"))
	if err != nil {
		t.Fatal(err)
	}
	s := string(static)
	i := strings.Index(s, "import { WorkflowEntrypoint }")
	if i < 0 {
		t.Fatal("the static variant has no WorkflowEntrypoint import")
	}
	if code := strings.TrimSpace(s[i:]); !strings.Contains(string(example), code) {
		t.Errorf("the static variant's code is not in the example's TENANT_CODE:\n%s", code)
	}
}

//go:build !ascend

package npu_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/govgg/govgg/layers"
	"github.com/govgg/govgg/npu"
)

func TestNotBuilt(t *testing.T) {
	if npu.Available() {
		t.Error("Available() in a build without -tags ascend")
	}
	_, err := npu.New()
	for _, e := range []error{err, npu.Use()} {
		if !errors.Is(e, npu.ErrNotBuilt) {
			t.Errorf("err = %v, want ErrNotBuilt", e)
		}
	}
	for _, s := range []string{"-tags ascend", "CANN", "ASCEND_TOOLKIT_HOME", "CGO_LDFLAGS"} {
		if !strings.Contains(npu.ErrNotBuilt.Error(), s) {
			t.Errorf("ErrNotBuilt does not mention %q", s)
		}
	}
	for _, n := range layers.Backends() {
		if n == npu.Name {
			t.Error(`"ascend" is registered without -tags ascend`)
		}
	}
}

func ExampleUse() {
	if err := npu.Use(npu.WithDevice(0)); err != nil {
		fmt.Println("running on the CPU:", errors.Is(err, npu.ErrNotBuilt))
	}
	// Output: running on the CPU: true
}

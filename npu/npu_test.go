package npu

import (
	"strings"
	"testing"
)

func TestDeviceFromEnv(t *testing.T) {
	for _, tc := range []struct {
		env     string
		want    int
		wantErr bool
	}{{"", 0, false}, {"3", 3, false}, {"-1", 0, true}, {"x", 0, true}} {
		t.Setenv("OMPI_COMM_WORLD_LOCAL_RANK", tc.env)
		got, err := DeviceFromEnv()
		if got != tc.want || (err != nil) != tc.wantErr {
			t.Errorf("OMPI_COMM_WORLD_LOCAL_RANK=%q: %d, %v", tc.env, got, err)
		}
		if err != nil && !strings.Contains(err.Error(), "OMPI_COMM_WORLD_LOCAL_RANK") {
			t.Errorf("error %q does not name the variable", err)
		}
	}
}

func TestOptionsValidated(t *testing.T) {
	for _, o := range []Option{WithDevice(-1), WithCubeMath(9), WithMemoryLimit(-5)} {
		c := defaultConfig()
		if err := c.apply([]Option{o}); err == nil {
			t.Errorf("option %+v accepted", c)
		}
	}
	c := defaultConfig()
	if err := c.apply([]Option{WithDevice(2), WithCubeMath(UseHF32), WithMemoryLimit(1 << 30), WithLogger(nil)}); err != nil {
		t.Fatal(err)
	}
	if c.device != 2 || !c.deviceSet || c.cubeMath != UseHF32 || c.memLimit != 1<<30 || c.logf == nil {
		t.Errorf("config %+v", c)
	}
}

package npu

import (
	"errors"
	"fmt"
	"os"
	"strconv"
)

// Name is the name the Ascend backend registers under in package layers, the value
// of GOVGG_BACKEND that selects it.
const Name = "ascend"

// CANNVersion is the CANN release whose API the bindings were written against.
const CANNVersion = "8.0.0"

// ErrNotBuilt is returned by New and Use in a binary built without -tags ascend.
var ErrNotBuilt = errors.New("npu: this binary was built without -tags ascend; rebuild with " +
	"`go build -tags ascend` against CANN " + CANNVersion + " (headers and libraries of " +
	"ASCEND_TOOLKIT_HOME, by default /usr/local/Ascend/ascend-toolkit/latest, given as " +
	"CGO_CFLAGS=-I$ASCEND_TOOLKIT_HOME/include CGO_LDFLAGS=-L$ASCEND_TOOLKIT_HOME/lib64)")

// CubeMath is aclnn's cubeMathType: how the matrix unit computes float32
// convolutions and matrix products.
type CubeMath int8

const (
	// KeepDtype computes in float32; several products do not support it for
	// convolution.
	KeepDtype CubeMath = 0
	// AllowDownPrecision lets the operator pick a lower precision (HF32 or FP16)
	// where float32 is not supported: the default.
	AllowDownPrecision CubeMath = 1
	// UseFP16 computes in float16.
	UseFP16 CubeMath = 2
	// UseHF32 computes in HF32 (a 10-bit mantissa, float32 range).
	UseHF32 CubeMath = 3
)

// Option configures a Backend.
type Option func(*config)

type config struct {
	device    int
	deviceSet bool
	cubeMath  CubeMath
	memLimit  int64
	logf      func(format string, args ...any)
	poison    bool // tests: fill host buffers whose device copy is newer with NaN
}

func defaultConfig() config {
	return config{cubeMath: AllowDownPrecision, logf: func(format string, args ...any) {
		fmt.Fprintf(os.Stderr, format+"\n", args...)
	}}
}

func (c *config) apply(opts []Option) error {
	for _, o := range opts {
		o(c)
	}
	switch {
	case c.device < 0:
		return fmt.Errorf("npu: device id %d is negative", c.device)
	case c.cubeMath < KeepDtype || c.cubeMath > UseHF32:
		return fmt.Errorf("npu: unknown cube math type %d", c.cubeMath)
	case c.memLimit < 0:
		return fmt.Errorf("npu: memory limit %d is negative", c.memLimit)
	}
	return nil
}

// WithDevice selects the NPU. Without it the device is the MPI local rank
// (OMPI_COMM_WORLD_LOCAL_RANK), or 0 outside mpirun.
func WithDevice(id int) Option { return func(c *config) { c.device, c.deviceSet = id, true } }

// WithCubeMath sets the cubeMathType of convolutions and matrix products
// (AllowDownPrecision by default).
func WithCubeMath(m CubeMath) Option { return func(c *config) { c.cubeMath = m } }

// WithMemoryLimit bounds the device memory that mirrors host buffers, in bytes;
// beyond it the least recently used mirrors are freed (and re-uploaded when used
// again). 0, the default, means no bound.
func WithMemoryLimit(bytes int64) Option { return func(c *config) { c.memLimit = bytes } }

// WithLogger replaces the destination of the backend's one-time notices (an
// operation falling back to the CPU). The default writes a line to stderr.
func WithLogger(logf func(format string, args ...any)) Option {
	return func(c *config) {
		if logf != nil {
			c.logf = logf
		}
	}
}

// DeviceFromEnv returns the device id implied by the environment: the MPI local
// rank (OMPI_COMM_WORLD_LOCAL_RANK) under mpirun, 0 otherwise.
func DeviceFromEnv() (int, error) {
	s := os.Getenv("OMPI_COMM_WORLD_LOCAL_RANK")
	if s == "" {
		return 0, nil
	}
	id, err := strconv.Atoi(s)
	if err != nil || id < 0 {
		return 0, fmt.Errorf("npu: OMPI_COMM_WORLD_LOCAL_RANK=%q is not a device id", s)
	}
	return id, nil
}

// Stats counts what a backend did since it started: host↔device copies, operator
// launches, executors built and reused, and calls handed to the CPU.
type Stats struct {
	Uploads, UploadBytes     int64
	Downloads, DownloadBytes int64
	Launches                 int64
	ExecutorsBuilt           int64
	ExecutorsReused          int64
	Fallbacks                int64
	DeviceBytes              int64 // device memory held now (mirrors, weights, workspace)
}

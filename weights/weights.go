package weights

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/govgg/govgg/tensor"
)

// Named is a tensor with its state-dict name. Slices of Named keep a file's order.
type Named struct {
	Name   string
	Tensor *tensor.Tensor
	// DType is the element type the tensor had in its file (F32 for tensors made
	// in Go). The tensor itself is always float32.
	DType DType
}

// Format names a weight-file format.
type Format uint8

// The formats. Unknown is the zero value.
const (
	Unknown Format = iota
	Safetensors
	PyTorch       // torch.save zip archive
	PyTorchLegacy // torch.save with _use_new_zipfile_serialization=False
	MindSpore     // MindSpore .ckpt (protobuf)
)

func (f Format) String() string {
	switch f {
	case Safetensors:
		return "safetensors"
	case PyTorch:
		return "pytorch"
	case PyTorchLegacy:
		return "pytorch-legacy"
	case MindSpore:
		return "mindspore-ckpt"
	}
	return "unknown"
}

// FormatFromExt returns the format a file name's extension implies for writing:
// .safetensors (or .st) and .ckpt. Other extensions give Unknown.
func FormatFromExt(path string) Format {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".safetensors", ".st":
		return Safetensors
	case ".ckpt":
		return MindSpore
	case ".pth", ".pt", ".bin":
		return PyTorch
	}
	return Unknown
}

// ErrFormat is wrapped by every error about a malformed or unsupported file.
var ErrFormat = errors.New("weights: bad weight file")

// formatError makes an ErrFormat error; the caller's message names the problem.
func formatError(f string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrFormat, fmt.Sprintf(f, args...))
}

// Skipped is a file entry that was not returned as a model tensor, with the reason.
type Skipped struct {
	Name   string
	Reason string
}

// File is everything a reader found in a weight file.
type File struct {
	Format  Format
	Tensors []Named
	// Metadata is the safetensors __metadata__ map (nil for other formats).
	Metadata map[string]string
	// Skipped lists entries that are not model tensors: optimizer state, step
	// counters, strings, non-tensor values of a PyTorch checkpoint dict.
	Skipped []Skipped
}

// Detect names the format of a file from its first bytes (at least 16 are needed
// for a reliable answer) and its total size.
func Detect(head []byte, size int64) Format {
	switch {
	// Safetensors first: its 8-byte length can start with any byte, even 0x80 or 0x0a.
	case len(head) >= 9 && size >= 9 && head[8] == '{' && binary.LittleEndian.Uint64(head) <= uint64(size-8):
		return Safetensors
	case bytes.HasPrefix(head, []byte("PK\x03\x04")):
		return PyTorch
	case len(head) >= 3 && head[0] == 0x80 && head[2] == 0x8a: // PROTO n, LONG1: the magic number
		return PyTorchLegacy
	case len(head) >= 1 && head[0] == 0x0a: // protobuf field 1, length-delimited
		return MindSpore
	}
	return Unknown
}

// Read decodes a weight file of the given size from r, detecting its format.
// name is used in error messages only.
func Read(r io.ReaderAt, size int64, name string) (*File, error) {
	var head [16]byte
	n, err := r.ReadAt(head[:], 0)
	if n < len(head) && err != nil && err != io.EOF {
		return nil, fmt.Errorf("weights: reading %s: %w", name, err)
	}
	var f *File
	switch fm := Detect(head[:n], size); fm {
	case Safetensors:
		f, err = readSafetensors(r, size)
	case PyTorch:
		f, err = readPyTorchZip(r, size)
	case PyTorchLegacy:
		f, err = readPyTorchLegacy(r, size)
	case MindSpore:
		f, err = readCkpt(r, size)
	default:
		if size == 0 {
			return nil, fmt.Errorf("%w: %s is empty", ErrFormat, name)
		}
		if size >= 262 {
			var magic [5]byte
			if _, err := r.ReadAt(magic[:], 257); err == nil && string(magic[:]) == "ustar" {
				return nil, fmt.Errorf("%w: %s is a tar archive: the pre-1.0 PyTorch tar format is not supported; re-save it with a newer torch.save", ErrFormat, name)
			}
		}
		return nil, fmt.Errorf("%w: %s: format not recognised (first bytes % x); want safetensors, a PyTorch .pth or a MindSpore .ckpt", ErrFormat, name, head[:min(n, 8)])
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return f, nil
}

// ReadFile reads a weight file of any supported format.
func ReadFile(path string) (*File, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("weights: %w", err)
	}
	defer fh.Close()
	st, err := fh.Stat()
	if err != nil {
		return nil, fmt.Errorf("weights: %w", err)
	}
	if st.IsDir() {
		return nil, fmt.Errorf("weights: %s is a directory", path)
	}
	return Read(fh, st.Size(), path)
}

// Load reads the model tensors of a safetensors, PyTorch or MindSpore file, in file
// order, and reports which format it was. Entries that are not model tensors are
// dropped; use ReadFile to see them.
func Load(path string) ([]Named, Format, error) {
	f, err := ReadFile(path)
	if err != nil {
		return nil, Unknown, err
	}
	return f.Tensors, f.Format, nil
}

// SaveOption configures Save.
type SaveOption func(*saveConfig)

type saveConfig struct {
	metadata map[string]string
	sorted   bool
	crc      bool
}

// WithMetadata stores string metadata in a safetensors header (__metadata__).
// It is ignored for .ckpt files, which have no such field.
func WithMetadata(m map[string]string) SaveOption {
	return func(c *saveConfig) { c.metadata = m }
}

// SortedNames writes tensors in name order instead of the order given.
func SortedNames() SaveOption { return func(c *saveConfig) { c.sorted = true } }

// WithCRC appends MindSpore's crc_num trailer to a .ckpt file, which
// load_checkpoint(crc_check=True) verifies. MindSpore releases before the
// trailer existed cannot read such files, so it is off by default.
func WithCRC() SaveOption { return func(c *saveConfig) { c.crc = true } }

// Save writes ts to path in format f (Safetensors or MindSpore), atomically: the
// data goes to a temporary file in the same directory, is synced, and is renamed
// over path only when complete.
func Save(path string, ts []Named, f Format, opts ...SaveOption) error {
	if err := checkWritable(ts, f); err != nil {
		return fmt.Errorf("%w (saving %s)", err, path)
	}
	return writeAtomic(path, func(w io.Writer) error { return Write(w, ts, f, opts...) })
}

// Write encodes ts in format f (Safetensors or MindSpore) to w.
func Write(w io.Writer, ts []Named, f Format, opts ...SaveOption) error {
	var c saveConfig
	for _, o := range opts {
		o(&c)
	}
	if err := checkWritable(ts, f); err != nil {
		return err
	}
	if c.sorted {
		ts = sortedByName(ts)
	}
	if f == MindSpore {
		return writeCkpt(w, ts, c.crc)
	}
	return writeSafetensors(w, ts, c.metadata)
}

func checkWritable(ts []Named, f Format) error {
	if f != Safetensors && f != MindSpore {
		return fmt.Errorf("weights: cannot write format %v: only safetensors and MindSpore .ckpt are written", f)
	}
	return checkNamed(ts)
}

// checkNamed rejects sets that no format can hold: empty or repeated names, nil tensors.
func checkNamed(ts []Named) error {
	seen := make(map[string]bool, len(ts))
	for i, t := range ts {
		switch {
		case t.Name == "":
			return fmt.Errorf("weights: tensor %d has an empty name", i)
		case t.Tensor == nil:
			return fmt.Errorf("weights: tensor %q is nil", t.Name)
		case seen[t.Name]:
			return fmt.Errorf("weights: tensor name %q appears twice", t.Name)
		case t.Tensor.Layout() != tensor.NCHW:
			return fmt.Errorf("weights: tensor %q is in layout %v; convert it to NCHW before saving", t.Name, t.Tensor.Layout())
		}
		seen[t.Name] = true
	}
	return nil
}

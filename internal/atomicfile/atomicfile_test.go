package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestWriteReplacesOrKeeps(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f")
	put := func(s string) error {
		return Write(path, func(w io.Writer) error { _, err := io.WriteString(w, s); return err })
	}
	require.NoError(t, put("one"))
	// A writer that fails half-way and a crash before the rename both keep the old file.
	err := Write(path, func(w io.Writer) error { io.WriteString(w, "tw"); return errors.New("disk full") })
	require.ErrorContains(t, err, "disk full")
	BeforeRename = func(string) error { return errors.New("killed") }
	require.ErrorContains(t, put("two"), "killed")
	BeforeRename = nil
	got, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, "one", string(got))
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, entries, 1, "no temporary files left behind")
	require.NoError(t, put("two"))
	got, _ = os.ReadFile(path)
	require.Equal(t, "two", string(got))
	require.Error(t, Write(filepath.Join(dir, "missing", "f"), func(io.Writer) error { return nil }))
}

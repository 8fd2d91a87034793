package weights

import (
	"fmt"
	"io"
	"sort"

	"github.com/govgg/govgg/internal/atomicfile"
)

// writeAtomic writes a file through write so that path holds either its old
// content or the complete new one, never a partial file.
func writeAtomic(path string, write func(io.Writer) error) error {
	if err := atomicfile.Write(path, write); err != nil {
		return fmt.Errorf("weights: %w", err)
	}
	return nil
}

func sortedByName(ts []Named) []Named {
	s := append([]Named(nil), ts...)
	sort.SliceStable(s, func(i, j int) bool { return s[i].Name < s[j].Name })
	return s
}

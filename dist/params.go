package dist

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"

	"github.com/govgg/govgg/layers"
)

// BroadcastParams copies rank 0's values of ps to every rank, so that all ranks start
// from the same weights (DDP's initial sync; MindCV could not set
// parameter_broadcast). Pass the model's StateDict to include batch-norm running
// statistics, and call the model's ParamsChanged afterwards. It is a collective that
// first checks that every rank has the same parameters (names and sizes).
func BroadcastParams(c *Comm, ps []*layers.Param) error {
	if err := checkSameEverywhere(c, "BroadcastParams", ps); err != nil {
		return err
	}
	for _, p := range ps {
		if err := c.Broadcast(p.Value.Data(), 0); err != nil {
			return fmt.Errorf("dist: BroadcastParams: %s: %w", p.Name, err)
		}
	}
	return nil
}

// checkSameEverywhere fails on every rank, rather than on some while the others go on
// into collectives of other sizes, unless all ranks list the same names and sizes.
func checkSameEverywhere(c *Comm, op string, ps []*layers.Param) error {
	if c.Size() == 1 {
		return nil
	}
	h := fnv.New64a()
	for _, p := range ps {
		fmt.Fprintf(h, "%s:%d;", p.Name, p.Value.Len())
	}
	mine := h.Sum64()
	root := binary.LittleEndian.AppendUint64(nil, mine)
	if err := c.BroadcastBytes(root, 0); err != nil {
		return fmt.Errorf("dist: %s: %w", op, err)
	}
	differ := []int64{0}
	if binary.LittleEndian.Uint64(root) != mine {
		differ[0] = 1
	}
	if err := c.AllReduceSumInt64(differ); err != nil {
		return fmt.Errorf("dist: %s: %w", op, err)
	}
	if differ[0] != 0 {
		return fmt.Errorf("dist: %s: %d of %d ranks have parameters (names or sizes) other than rank 0's %d tensors; every rank must build the same model", op, differ[0], c.Size(), len(ps))
	}
	return nil
}

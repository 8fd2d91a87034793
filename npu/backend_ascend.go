//go:build ascend

package npu

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"unsafe"

	"github.com/govgg/govgg/layers"
)

var defaultBackend = &Backend{cfg: defaultConfig()}

func init() {
	if err := layers.RegisterBackend(Name, defaultBackend); err != nil {
		defaultBackend.cfg.logf("npu: %v", err)
	}
}

// Available reports whether this binary can run on Ascend NPUs: true with -tags
// ascend (whether a device is present is known only when a backend starts).
func Available() bool { return true }

// Backend computes layers on one Ascend NPU through aclnn operators. It implements
// every operation group of layers.Backend; see the package documentation for what
// runs on the device, what goes to the CPU, and when data is copied.
//
// A Backend is safe for use by several goroutines, which it serializes.
type Backend struct {
	cfg config

	mu       sync.Mutex
	started  bool
	startErr error
	closed   bool
	rt       *runtimeState

	regions map[regionKey]*region
	execs   map[string]*executor
	ws      devPtr
	wsSize  uint64
	clock   uint64
	pending []devPtr // device buffers of collected ConvOps, freed on the next call
	logged  map[[2]string]bool
	poolX   map[unsafe.Pointer][]float32 // max-pool input per index buffer
	convs   map[*convMem]bool            // device weights of live ConvOps
	scratch []float32
	keyBuf  key
	cur     call // the call in progress, reused
	stats   Stats
}

// New starts a backend on the device chosen by opts (WithDevice, else the MPI local
// rank, else 0). Give it to a model with SetBackend; it is not registered by name.
func New(opts ...Option) (*Backend, error) {
	b := &Backend{cfg: defaultConfig()}
	if err := b.cfg.apply(opts); err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := b.start(); err != nil {
		return nil, err
	}
	return b, nil
}

// Use configures the registered "ascend" backend with opts, starts it, and makes it
// the default of every layer (layers.UseBackend). GOVGG_BACKEND=ascend selects the
// same backend with the default options, started on first use.
func Use(opts ...Option) error {
	b := defaultBackend
	b.mu.Lock()
	if b.started && len(opts) > 0 {
		b.mu.Unlock()
		return errors.New("npu: the ascend backend has already started; options must be given before its first use")
	}
	c := defaultConfig()
	if err := c.apply(opts); err != nil {
		b.mu.Unlock()
		return err
	}
	if !b.started {
		b.cfg = c
	}
	runtime.LockOSThread()
	err := b.start()
	runtime.UnlockOSThread()
	b.mu.Unlock()
	if err != nil {
		return err
	}
	return layers.UseBackend(Name)
}

// Name returns "ascend".
func (b *Backend) Name() string { return Name }

// start initializes the device once; the caller holds mu on a locked thread.
func (b *Backend) start() error {
	if b.closed {
		return errors.New("npu: backend is closed")
	}
	if b.started {
		return b.startErr
	}
	b.started = true
	dev := b.cfg.device
	if !b.cfg.deviceSet {
		var err error
		if dev, err = DeviceFromEnv(); err != nil {
			b.startErr = err
			return err
		}
	}
	b.rt, b.startErr = startRuntime(dev)
	b.regions = map[regionKey]*region{}
	b.execs = map[string]*executor{}
	b.logged = map[[2]string]bool{}
	b.poolX = map[unsafe.Pointer][]float32{}
	b.convs = map[*convMem]bool{}
	return b.startErr
}

// enter locks the backend and this goroutine's OS thread and binds the device
// context; leave undoes it.
func (b *Backend) enter() error {
	b.mu.Lock()
	runtime.LockOSThread()
	if err := b.start(); err != nil {
		b.leave()
		return err
	}
	if err := b.rt.bind(); err != nil {
		b.leave()
		return err
	}
	if len(b.pending) > 0 {
		if err := b.rt.sync(); err != nil {
			b.leave()
			return err
		}
		for _, p := range b.pending {
			b.free(p)
		}
		b.pending = b.pending[:0]
	}
	return nil
}

func (b *Backend) leave() {
	runtime.UnlockOSThread()
	b.mu.Unlock()
}

// Stats returns the counters.
func (b *Backend) Stats() Stats {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.stats
}

// Invalidate forgets that any device copy matches its host buffer, so the next use
// of every buffer uploads it. Call it after writing, outside the backend, into a
// buffer that an NPU operation produced (a layer output), for example after
// switching single layers between this and another backend.
func (b *Backend) Invalidate() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, r := range b.regions {
		r.current = false
	}
}

// Freeze uploads bufs now and marks their device copies current, so operations
// read them without uploading again: for parameters that stay fixed, as in
// inference (by default a Linear layer's weights go up on every call, since an
// optimizer may have changed them). After changing a frozen buffer, call
// Invalidate.
func (b *Backend) Freeze(bufs ...[]float32) error {
	if err := b.enter(); err != nil {
		return err
	}
	defer b.leave()
	c := b.newCall()
	for _, s := range bufs {
		if len(s) == 0 {
			continue
		}
		k := keyOf(s)
		if _, err := c.in(k, true); err != nil {
			return err
		}
		b.regions[k].current = true
	}
	return nil
}

// Close frees every device buffer and executor, destroys the stream and resets the
// device. The backend cannot be used afterwards. (aclFinalize is left to process
// exit, since AscendCL allows aclInit only once per process.)
func (b *Backend) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil
	}
	b.closed = true
	if !b.started || b.startErr != nil {
		return nil
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	err := b.rt.bind()
	if err == nil {
		err = b.rt.sync()
	}
	for k, e := range b.execs {
		e.destroy()
		delete(b.execs, k)
	}
	for k, r := range b.regions {
		b.free(r.dev)
		delete(b.regions, k)
	}
	for _, p := range b.pending {
		b.free(p)
	}
	b.pending = nil
	for m := range b.convs {
		b.free(m.w)
		b.free(m.bias)
		m.w, m.bias = 0, 0
	}
	clear(b.convs)
	if b.ws != 0 {
		b.free(b.ws)
		b.ws, b.wsSize = 0, 0
	}
	if e := b.rt.stop(); err == nil {
		err = e
	}
	return err
}

// ---- device memory ----

// devSizes records the size of every allocation, so DeviceBytes stays exact
// whoever frees.
var devSizes sync.Map // devPtr → int64

func (b *Backend) alloc(n int64) (devPtr, error) {
	p, err := devMalloc(max(n, 1))
	if err != nil {
		return 0, err
	}
	devSizes.Store(p, n)
	b.stats.DeviceBytes += n
	return p, nil
}

// free releases a device buffer and every cached executor that uses it.
func (b *Backend) free(p devPtr) {
	if p == 0 {
		return
	}
	for k, e := range b.execs {
		for _, d := range e.devs {
			if d == p {
				e.destroy()
				delete(b.execs, k)
				break
			}
		}
	}
	if n, ok := devSizes.LoadAndDelete(p); ok {
		b.stats.DeviceBytes -= n.(int64)
	}
	devFree(p)
}

// workspace returns a device workspace of at least n bytes, shared by all
// operators: they run one after another on the one stream.
func (b *Backend) workspace(n uint64) (devPtr, error) {
	if n <= b.wsSize {
		return b.ws, nil
	}
	if b.ws != 0 {
		if err := b.rt.sync(); err != nil {
			return 0, err
		}
		b.free(b.ws)
		b.ws, b.wsSize = 0, 0
	}
	p, err := b.alloc(int64(n))
	if err != nil {
		return 0, err
	}
	b.ws, b.wsSize = p, n
	return p, nil
}

// ---- host-buffer mirrors ----

// regionKey identifies a host buffer: its first byte and its length in bytes. As a
// map key it keeps the buffer alive, so its address cannot be reused by another
// allocation while it is mirrored.
type regionKey struct {
	p unsafe.Pointer
	n uintptr
}

// region is the device mirror of a host buffer.
type region struct {
	key regionKey
	dev devPtr
	// current: the device copy equals the host copy and only this backend wrote
	// either since they were made equal (an NPU operation wrote the buffer and it
	// was copied back, or Freeze uploaded it), so it is read without an upload.
	current bool
	used    uint64
}

func (r *region) overlaps(k regionKey) bool {
	a, b := uintptr(r.key.p), uintptr(k.p)
	return a < b+k.n && b < a+r.key.n
}

func keyOf[T float32 | int32](s []T) regionKey {
	return regionKey{unsafe.Pointer(unsafe.SliceData(s)), uintptr(len(s)) * 4}
}

// call is one backend operation: the mirrors it uses and the outputs to copy back.
type call struct {
	b    *Backend
	used map[*region]bool
	outs []*region
}

func (b *Backend) newCall() *call {
	c := &b.cur
	if c.used == nil {
		c.b, c.used = b, map[*region]bool{}
	}
	clear(c.used)
	c.outs = c.outs[:0]
	return c
}

// mirror returns the region of k, making one (evicting others past the memory
// limit) if needed.
func (c *call) mirror(k regionKey) (*region, error) {
	b := c.b
	b.clock++
	r := b.regions[k]
	if r == nil {
		if err := c.evict(int64(k.n)); err != nil {
			return nil, err
		}
		p, err := b.alloc(int64(k.n))
		if err != nil {
			return nil, err
		}
		r = &region{key: k, dev: p}
		b.regions[k] = r
	}
	r.used = b.clock
	c.used[r] = true
	return r, nil
}

// evict frees least recently used mirrors that this call does not use until n more
// bytes fit under the memory limit. Mirrors can always be dropped: the host copy
// is never older than the device copy.
func (c *call) evict(n int64) error {
	b := c.b
	for b.cfg.memLimit > 0 && b.stats.DeviceBytes+n > b.cfg.memLimit {
		var lru *region
		for _, r := range b.regions {
			if !c.used[r] && (lru == nil || r.used < lru.used) {
				lru = r
			}
		}
		if lru == nil {
			return fmt.Errorf("npu: %d bytes do not fit in the device memory limit of %d bytes", n, b.cfg.memLimit)
		}
		if err := b.rt.sync(); err != nil {
			return err
		}
		delete(b.regions, lru.key)
		b.free(lru.dev)
	}
	return nil
}

// in returns the device copy of an input, uploading it unless an NPU operation
// wrote it last. fresh forces the upload: the caller knows the host just wrote it.
func (c *call) in(k regionKey, fresh bool) (devPtr, error) {
	r, err := c.mirror(k)
	if err != nil {
		return 0, err
	}
	if fresh || !r.current {
		if err := upload(r.dev, k.p, int64(k.n)); err != nil {
			return 0, err
		}
		c.b.stats.Uploads++
		c.b.stats.UploadBytes += int64(k.n)
		r.current = false
	}
	return r.dev, nil
}

// out returns the device buffer of an output. partial says the operation writes
// only part of it: the rest must be current on the device, since the whole buffer
// is copied back.
func (c *call) out(k regionKey, partial bool) (devPtr, error) {
	if partial {
		if _, err := c.in(k, false); err != nil {
			return 0, err
		}
	}
	r, err := c.mirror(k)
	if err != nil {
		return 0, err
	}
	c.outs = append(c.outs, r)
	return r.dev, nil
}

// launch runs the executor cached under key, building it with mk on first use.
func (c *call) launch(op string, key []byte, mk func(bd *builder) error) error {
	b := c.b
	e := b.execs[string(key)]
	if e != nil {
		b.stats.ExecutorsReused++
	} else {
		bd := &builder{e: &executor{op: op}}
		if err := mk(bd); err != nil {
			bd.e.destroy()
			return err
		}
		if err := bd.e.repeatable(); err != nil {
			bd.e.destroy()
			return err
		}
		e = bd.e
		b.execs[string(key)] = e
		b.stats.ExecutorsBuilt++
	}
	ws, err := b.workspace(e.ws)
	if err != nil {
		return err
	}
	b.stats.Launches++
	return b.rt.launch(e, ws)
}

// finish waits for the stream and copies every output back to its host buffer
// (write-through: the host is never stale when the backend returns).
func (c *call) finish() error {
	b := c.b
	if err := b.rt.sync(); err != nil {
		return err
	}
	for _, r := range c.outs {
		if err := download(r.key.p, r.dev, int64(r.key.n)); err != nil {
			return err
		}
		b.stats.Downloads++
		b.stats.DownloadBytes += int64(r.key.n)
	}
	for _, r := range c.outs {
		b.hostWrote(r.key)
		r.current = true
	}
	return nil
}

// hostWrote records that the host copy of k changed: no mirror overlapping it is
// current any more.
func (b *Backend) hostWrote(k regionKey) {
	for _, r := range b.regions {
		if r.overlaps(k) {
			r.current = false
		}
	}
}

// do runs an operation on the NPU, or on the CPU when the NPU rejects its
// arguments (logged once per operation and reason). outs are the buffers the CPU
// path writes.
func (b *Backend) do(op string, npu func(c *call) error, cpu func() error, outs ...regionKey) error {
	if err := b.enter(); err != nil {
		return err
	}
	defer b.leave()
	c := b.newCall()
	err := npu(c)
	if err == nil {
		return c.finish()
	}
	// Operators may have written some outputs on the device before the failure.
	for _, r := range c.outs {
		b.hostWrote(r.key)
	}
	if _, ok := err.(unsupportedError); !ok || cpu == nil {
		return err
	}
	return b.fallback(op, err.Error(), cpu, outs...)
}

// fallback runs cpu for op, logging the reason once.
func (b *Backend) fallback(op, reason string, cpu func() error, outs ...regionKey) error {
	b.notice(op, reason)
	if err := cpu(); err != nil {
		return err
	}
	for _, k := range outs {
		b.hostWrote(k)
	}
	return nil
}

// notice counts a call handed to the CPU and logs its reason the first time.
func (b *Backend) notice(op, reason string) {
	if k := [2]string{op, reason}; !b.logged[k] {
		b.logged[k] = true
		b.cfg.logf("npu: %s runs on the CPU: %s", op, reason)
	}
	b.stats.Fallbacks++
}

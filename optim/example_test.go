package optim_test

import (
	"fmt"

	"github.com/govgg/govgg/layers"
	"github.com/govgg/govgg/optim"
	"github.com/govgg/govgg/tensor"
)

// A training loop's optimizer calls: the gradient comes from the loss
// L = ½·Σ(w−target)², so dL/dw = w − target, and SGD with momentum pulls w towards
// the target while the learning rate warms up over the first epoch.
func ExampleSGD() {
	w, _ := tensor.FromSlice([]float32{0, 4}, 2)
	p := &layers.Param{Name: "weight", Value: w, Grad: tensor.New(2)}
	target := []float32{1, 2}

	sched, err := optim.NewSchedule(optim.ScheduleConfig{
		Name: "warmup_cosine_decay", LR: 0.5, MinLR: 0.01,
		WarmupEpochs: 1, WarmupFactor: 0.1, DecayEpochs: 4, NumEpochs: 5, StepsPerEpoch: 2,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	opt, err := optim.NewSGD([]*layers.Param{p}, optim.WithSchedule(sched), optim.WithMomentum(0.5))
	if err != nil {
		fmt.Println(err)
		return
	}
	for step := 0; step < 10; step++ {
		for i, v := range w.Data() { // backward
			p.Grad.Data()[i] = v - target[i]
		}
		lr := opt.LR()
		if err := opt.Step(); err != nil {
			fmt.Println(err)
			return
		}
		if step%3 == 0 {
			fmt.Printf("step %d lr %.3f w %.3f\n", step, lr, w.Data())
		}
	}
	// Output:
	// step 0 lr 0.050 w [0.050 3.900]
	// step 3 lr 0.481 w [1.352 1.296]
	// step 6 lr 0.255 w [1.099 1.801]
	// step 9 lr 0.029 w [1.033 1.933]
}

// MindCV's VGG16 recipe: 2 warmup epochs from 0, then a cosine from 0.01 to 1e-4
// over 198 epochs, changing every step (5004 steps per epoch on 8×32 images).
func ExampleNewSchedule() {
	s, err := optim.NewSchedule(optim.ScheduleConfig{
		Name: "warmup_cosine_decay", LR: optim.ScaleLR(0.01, 8*32, 256), MinLR: 1e-4,
		WarmupEpochs: 2, DecayEpochs: 198, NumEpochs: 200, StepsPerEpoch: 5004,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, step := range []int{0, 5004, 10008, 500000, 1000799} {
		fmt.Printf("step %7d: lr %.6g\n", step, s.LR(step))
	}
	// Output:
	// step       0: lr 0
	// step    5004: lr 0.005
	// step   10008: lr 0.01
	// step  500000: lr 0.00513481
	// step 1000799: lr 0.0001
}

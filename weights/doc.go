// Package weights reads and writes named float32 tensors in the weight-file formats
// that VGG models travel in, and maps and assigns them onto a model's parameters.
//
// Formats:
//
//   - safetensors, govgg's native format: read (F64, F32, F16, BF16 and integer
//     dtypes, converted to float32) and written (F32, atomically).
//   - PyTorch .pth/.pt from torch.save: the zip format (<archive>/data.pkl plus
//     <archive>/data/<key> storages) and the legacy raw-pickle format
//     (_use_new_zipfile_serialization=False). The pickle is interpreted by a small
//     virtual machine that knows only the globals a state dict needs; any other
//     global is an error that names it, and nothing is ever executed.
//   - MindSpore .ckpt: the protobuf Checkpoint message, parsed from the wire
//     format; read and written, with the optional crc_num trailer.
//
// Load and Save are the one-call entry points; ReadFile and Read also return the
// entries a file held that are not model tensors (optimizer state, step counters)
// and why they were left out. Assign copies a set of loaded tensors into a model's
// parameters by name, with options for strictness, skipped prefixes and name
// mapping, and reports every missing, unexpected and mis-shaped tensor at once.
// MindCVToTorchvision and TorchvisionToMindCV translate between the two VGG
// naming flavours, and Convert turns any readable file into safetensors or .ckpt.
//
// Readers are defensive: every size in a file is checked against the file's length
// before anything is allocated, so a forged header cannot make a reader allocate
// more than the file holds.
package weights

"""What the fixture scripts share: diffusers' source imported offline, every parameter made to matter, and a fixture
folder written the way a user's model folder looks, with its provenance.

Import this module before torch or diffusers: it puts ./src (diffusers' source at DIFFUSERS_COMMIT) on the path and
installs the import-time stubs of hf_stubs.py."""
import hashlib
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "src"))

import hf_stubs  # noqa: E402

hf_stubs.install()

import torch  # noqa: E402

import diffusers  # noqa: E402
import st_io  # noqa: E402

WEIGHTS = "diffusion_pytorch_model.safetensors"
IO = "io.safetensors"


def fixture_root(kind):
    """OUT_DIR from the command line, else core/src/test/resources/golden/<kind>."""
    if len(sys.argv) > 1:
        return sys.argv[1]
    return os.path.join(HERE, "..", "..", "core", "src", "test", "resources", "golden", kind)


def deterministic_torch():
    torch.set_num_threads(1)
    torch.backends.nnpack.set_flags(False)  # silence "Could not initialize NNPACK" (it is unusable here anyway)
    torch.use_deterministic_algorithms(True)


def diffusers_commit():
    try:
        return open(os.path.join(HERE, "DIFFUSERS_COMMIT")).read().strip()
    except OSError:
        return "unknown"


def perturb_constant_params(model, gen):
    """Every parameter that is initialised to a constant (GroupNorm weight=1 / bias=0, any zero bias) gets
    Gaussian noise so that a Java port that ignores it would fail. Other (Kaiming-uniform) params are kept."""
    changed = []
    with torch.no_grad():
        for name, p in model.named_parameters():
            flat = p.reshape(-1)
            if flat.numel() == 1 or bool((flat == flat[0]).all()):
                p.add_(0.2 * torch.randn(p.shape, generator=gen))
                changed.append(name)
    return changed


def sha256(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def write_folder(out, model, io_tensors):
    """config.json by diffusers' own writer, the state dict under diffusers' key names (F32) and the io tensors."""
    os.makedirs(out, exist_ok=True)
    st_io.save_file(dict(model.state_dict()), os.path.join(out, WEIGHTS), metadata={"format": "pt"})
    model.save_config(out)
    st_io.save_file({k: v.contiguous() for k, v in io_tensors.items()}, os.path.join(out, IO))


def provenance(model, out):
    """The meta.json entries every fixture has: where the reference came from, its size and the files' hashes."""
    return {
        "diffusers_version": diffusers.__version__,
        "diffusers_commit": diffusers_commit(),
        "torch_version": torch.__version__,
        "attn_processor": type(next(iter(model.attn_processors.values()))).__name__ if model.attn_processors else None,
        "n_params": sum(p.numel() for p in model.parameters()),
        "sha256": {WEIGHTS: sha256(os.path.join(out, WEIGHTS)), IO: sha256(os.path.join(out, IO))},
    }


def write_meta(out, meta):
    with open(os.path.join(out, "meta.json"), "w") as f:
        json.dump(meta, f, indent=2, sort_keys=True)
        f.write("\n")


def report(out, model, meta, headline="", entries=()):
    """Prints what a run made: its size and hashes, the meta entries named by (label, key), and with PRINT_KEYS=1
    every weight's key and shape."""
    size = sum(os.path.getsize(os.path.join(out, f)) for f in os.listdir(out))
    print(f"== {os.path.basename(out)}: {meta['n_params']} params, {size} bytes{headline}")
    print("   sha256:", meta["sha256"])
    for label, key in entries:
        print(f"   {label}:", meta[key])
    if os.environ.get("PRINT_KEYS"):
        for k, v in model.state_dict().items():
            print(f"   {k} {list(v.shape)}")

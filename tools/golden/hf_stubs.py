"""Minimal sys.modules stubs so that the real diffusers source imports with only torch (+numpy, packaging,
requests, typing_extensions) installed. Except for safetensors (backed by st_io.py and used by
save_pretrained/from_pretrained), nothing here runs on the AutoencoderKL construct/encode/decode path; the stubs
only satisfy import-time `from X import Y` statements.  Call install() BEFORE importing diffusers.

Needed (found by iterating `from diffusers.models.autoencoders.autoencoder_kl import AutoencoderKL`):
  huggingface_hub (+.constants, .file_download, .utils)  imported by utils/constants.py, hub_utils.py,
                                                          configuration_utils.py, modeling_utils.py, ...
  diffusers.dependency_versions_check                     checks *installed metadata* of filelock at import
  tqdm (+.auto)                                           utils/logging.py
  PIL (+.Image, .ImageOps, .ImageFilter)                  utils/{export,loading,pil}_utils.py, image_processor.py
  safetensors (+.torch)                                   models/modeling_utils.py, model_loading_utils.py
NOT needed: accelerate, transformers, peft, httpx, filelock (module), importlib_metadata (py3.11 stdlib)."""
import importlib.machinery
import re
import sys
import types


def _mod(name, **attrs):
    m = types.ModuleType(name)
    m.__dict__.update(attrs)
    m.__file__ = "<stub " + name + ">"
    # a __spec__ is required: diffusers calls importlib.util.find_spec() on top-level package names
    m.__spec__ = importlib.machinery.ModuleSpec(name, loader=None)
    sys.modules[name] = m
    parent, _, child = name.rpartition(".")
    if parent:
        setattr(sys.modules[parent], child, m)
    return m


def _unavailable(name):
    def f(*a, **k):
        raise RuntimeError(f"stub: {name} is not available offline")
    f.__name__ = name
    return f


def _cls(name, base=object):
    return type(name, (base,), {})


def install():
    if "huggingface_hub" in sys.modules:
        return
    # ---------------- huggingface_hub ----------------
    hub = _mod("huggingface_hub", __version__="1.23.0")
    for n in ["create_repo", "hf_hub_download", "model_info", "snapshot_download", "upload_folder",
              "split_torch_state_dict_into_shards"]:
        setattr(hub, n, _unavailable(n))
    for n in ["DDUFEntry", "ModelCard", "ModelCardData"]:
        setattr(hub, n, _cls(n))
    _mod("huggingface_hub.constants", HF_HOME="/tmp/hf_home_stub", HF_HUB_DISABLE_TELEMETRY=True,
         HF_HUB_OFFLINE=True)
    _mod("huggingface_hub.file_download", REGEX_COMMIT_HASH=re.compile(r"^[0-9a-f]{40}$"))
    _mod("huggingface_hub.utils",
         EntryNotFoundError=_cls("EntryNotFoundError", Exception),
         HfHubHTTPError=_cls("HfHubHTTPError", Exception),
         RepositoryNotFoundError=_cls("RepositoryNotFoundError", Exception),
         RevisionNotFoundError=_cls("RevisionNotFoundError", Exception),
         is_jinja_available=lambda: False,
         validate_hf_hub_args=lambda fn: fn)
    # ---------------- diffusers.dependency_versions_check ----------------
    # The real module checks installed *distribution metadata* for python/requests/filelock/numpy at import
    # time; filelock is not installed (and is never used on the VAE path), so replace the checker by a no-op.
    _mod_noparent = types.ModuleType("diffusers.dependency_versions_check")
    _mod_noparent.dep_version_check = lambda pkg, hint=None: None
    sys.modules["diffusers.dependency_versions_check"] = _mod_noparent
    # ---------------- tqdm ----------------
    # diffusers.utils.logging does `from tqdm import auto as tqdm_lib` at import; only used for progress bars.
    _mod("tqdm")
    _mod("tqdm.auto", tqdm=_cls("tqdm"))
    # ---------------- PIL (Pillow) ----------------
    # diffusers.utils.{export,loading,pil_utils} import PIL.Image/PIL.ImageOps at top level and evaluate
    # `PIL.Image.Image` in annotations and `PIL.Image.Resampling.*` in a module-level dict.
    _mod("PIL", __version__="10.0.0")
    _mod("PIL.Image", Image=_cls("Image"),
         Resampling=types.SimpleNamespace(NEAREST=0, LANCZOS=1, BILINEAR=2, BICUBIC=3, BOX=4, HAMMING=5),
         open=_unavailable("open"), fromarray=_unavailable("fromarray"), new=_unavailable("new"))
    _mod("PIL.ImageOps")
    _mod("PIL.ImageFilter")  # image_processor.py: `from PIL import Image, ImageFilter, ImageOps`
    # ---------------- safetensors ----------------
    # models/modeling_utils.py and model_loading_utils.py do `import safetensors` at top level and call
    # safetensors.torch.{save_file,load_file,load} inside save_pretrained/from_pretrained.  We back the stub with
    # our own pure-Python implementation (st_io.py), so save_pretrained/from_pretrained actually work.
    import st_io
    _mod("safetensors", __version__="0.8.0")
    _mod("safetensors.torch", save_file=st_io.save_file, load_file=st_io.load_file, load=st_io.load,
         save=st_io.save)

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


# ---------------- transformers (for the CLIP text encoder, the slow CLIPTokenizer and whole pipelines) ----------------
TRANSFORMERS_SRC = "/tmp/tf-src"  # transformers-4.57.6-py3-none-any.whl extracted here (it is a zip); env TRANSFORMERS_SRC


class _NoTqdm:
    """A progress bar that shows nothing: diffusers' pipelines call tqdm(total=...) / tqdm(iterable) at run time."""

    def __init__(self, iterable=None, *args, **kwargs):
        self.iterable = iterable

    def __iter__(self):
        return iter(self.iterable)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def update(self, n=1):
        pass

    def close(self):
        pass


class _SafeOpen:
    """safetensors.safe_open over st_io: transformers' from_pretrained reads the metadata, keys and tensors with it."""

    class _Slice:
        def __init__(self, tensor, dtype_name):
            self.tensor, self.dtype_name = tensor, dtype_name

        def __getitem__(self, index):
            return self.tensor[index]

        def get_shape(self):
            return list(self.tensor.shape)

        def get_dtype(self):
            return self.dtype_name

    def __init__(self, filename, framework="pt", device="cpu"):
        import st_io
        header = st_io.read_header(filename)
        self._meta = header.get("__metadata__")
        self._dtypes = {k: v["dtype"] for k, v in header.items() if k != "__metadata__"}
        self._tensors = st_io.load_file(filename, device=device)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def metadata(self):
        return self._meta

    def keys(self):
        return list(self._tensors)

    def get_tensor(self, name):
        return self._tensors[name]

    def get_slice(self, name):
        return _SafeOpen._Slice(self._tensors[name], self._dtypes[name])


def _one_shard(state_dict, *, filename_pattern, max_shard_size=None, **kwargs):
    """huggingface_hub.split_torch_state_dict_into_shards for tiny models: everything in one unsharded file."""
    name = filename_pattern.format(suffix="")
    return types.SimpleNamespace(is_sharded=False, metadata={}, filename_to_tensors={name: list(state_dict)},
                                 tensor_to_filename={k: name for k in state_dict})


def install_transformers(src=None):
    """install() plus what transformers 4.57.6 needs to import from its extracted wheel without tokenizers,
    huggingface_hub and safetensors installed, found by iterating `from transformers import CLIPTextModel,
    CLIPTextModelWithProjection, CLIPTokenizer, CLIPTextConfig` and diffusers' StableDiffusionPipeline.  Call it
    BEFORE golden_common (which imports diffusers: diffusers binds tqdm at import and detects transformers then).
    Only the slow (pure Python) tokenizers work; none of the stubs takes part in a computation except
    safetensors.safe_open, storage_ptr/storage_size (real, over st_io and torch) and a one-shard
    split_torch_state_dict_into_shards (for save_pretrained)."""
    import builtins
    import os
    src = src or os.environ.get("TRANSFORMERS_SRC", TRANSFORMERS_SRC)
    if not os.path.isdir(os.path.join(src, "transformers")):
        raise SystemExit(f"transformers' source not found in {src}: extract transformers-4.57.6-py3-none-any.whl "
                         f"there (python -m zipfile -e WHEEL {src}) or set TRANSFORMERS_SRC")
    if src not in sys.path:
        sys.path.insert(0, src)  # with its .dist-info: importlib.metadata then finds transformers' version too
    install()
    if "tokenizers" in sys.modules:
        return
    # huggingface_hub: names imported at module level by transformers' utils/hub.py, modeling_utils.py, ...
    hub = sys.modules["huggingface_hub"]
    for n in ["get_full_repo_name", "create_branch", "create_commit", "hf_hub_url", "list_repo_tree",
              "try_to_load_from_cache", "list_repo_files", "get_repo_discussions",
              "get_cached_repo_tree", "read_dduf_file"]:  # the last two: diffusers' pipeline_utils.py
        setattr(hub, n, _unavailable(n))
    for n in ["CommitOperationAdd", "Discussion", "HfApi"]:
        setattr(hub, n, _cls(n))
    hub._CACHED_NO_EXIST = object()
    hub.split_torch_state_dict_into_shards = _one_shard  # transformers' and diffusers' save_pretrained
    sys.modules["huggingface_hub.file_download"].http_get = _unavailable("http_get")
    hub_utils = sys.modules["huggingface_hub.utils"]
    for n in ["GatedRepoError", "LocalEntryNotFoundError", "OfflineModeIsEnabled"]:
        setattr(hub_utils, n, _cls(n, Exception))
    for n in ["build_hf_headers", "get_session", "hf_raise_for_status"]:
        setattr(hub_utils, n, _unavailable(n))
    hub_utils.are_progress_bars_disabled = lambda: True  # called at import by transformers.utils.logging
    consts = sys.modules["huggingface_hub.constants"]
    consts.default_cache_path = consts.HF_HUB_CACHE = "/tmp/hf_home_stub/hub"
    _mod("huggingface_hub.errors", EntryNotFoundError=hub_utils.EntryNotFoundError,
         CachedRepoTreeNotFoundError=_cls("CachedRepoTreeNotFoundError", Exception))
    _mod("httpx", NetworkError=_cls("NetworkError", Exception))  # diffusers' pipeline_utils.py, in an except clause
    # transformers' own dependency check reads installed distributions' metadata (tokenizers, huggingface-hub, ...)
    m = types.ModuleType("transformers.dependency_versions_check")
    m.dep_version_check = lambda pkg, hint=None: None
    sys.modules[m.__name__] = m
    # tokenizers: imported at module level by convert_slow_tokenizer.py and integrations/ggml.py; it has no
    # distribution metadata, so transformers' is_tokenizers_available() stays False (the slow tokenizers are used)
    tok = _mod("tokenizers", __version__="0.0.0-stub")
    for n in ["AddedToken", "Regex", "Tokenizer", "Encoding"]:
        setattr(tok, n, _cls(n))
    for n in ["decoders", "normalizers", "pre_tokenizers", "processors", "models", "trainers"]:
        _mod("tokenizers." + n)
    for n in ["BPE", "Unigram", "WordPiece", "WordLevel"]:
        setattr(sys.modules["tokenizers.models"], n, _cls(n))
    # tokenization_utils_base.py evaluates the annotation `EncodingFast` (bound only when tokenizers is available)
    # while defining BatchEncoding: without tokenizers 4.57.6 fails with NameError unless the name resolves
    builtins.EncodingFast = tok.Encoding
    # safetensors: the reader transformers' from_pretrained uses, and the storage helpers of save_pretrained
    st = sys.modules["safetensors"]
    st.safe_open = _SafeOpen
    sys.modules["safetensors.torch"].storage_ptr = lambda t: t.untyped_storage().data_ptr()
    sys.modules["safetensors.torch"].storage_size = lambda t: t.untyped_storage().nbytes()
    # tqdm: a working no-op bar (diffusers' pipelines iterate through it)
    sys.modules["tqdm"].tqdm = _NoTqdm
    sys.modules["tqdm.auto"].tqdm = _NoTqdm
    # Without tokenizers, transformers 4.57.6 defines its own AddedToken, but PreTrainedTokenizer.__init__ cannot
    # use it: it is a @dataclass(eq=True) and so unhashable, yet tested with `token in dict` (TypeError), and it has
    # no __setstate__, which _add_tokens calls. Give it tokenizers' AddedToken's: a hash of the content and a
    # __setstate__ that sets the attributes given (its equality and __getstate__ are unchanged).
    from transformers import tokenization_utils_base
    tokenization_utils_base.AddedToken.__hash__ = lambda self: hash(self.content)
    tokenization_utils_base.AddedToken.__setstate__ = lambda self, state: self.__dict__.update(state)


# ---------------- peft (diffusers' own LoRA loading path: load_lora_weights, set_adapters, fuse_lora) ----------------
PEFT_SRC = "/tmp/peft-src/src"  # peft's src/ at the commit in PEFT_COMMIT (git archive COMMIT src/peft); env PEFT_SRC


class _AnyModule(types.ModuleType):
    """A stand-in module that answers every name: `is_*` functions return False, other lowercase names are functions
    and capitalised names classes, all of which raise when used (peft imports accelerate and psutil at module level
    but never calls them on the CPU-only LoRA load / merge path)."""

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        if name.startswith("is_"):
            value = lambda *a, **k: False  # noqa: E731
        elif name[:1].islower():
            value = _unavailable(f"{self.__name__}.{name}")
        else:
            value = type(name, (), {"__init__": _unavailable(f"{self.__name__}.{name}")})
        setattr(self, name, value)
        return value


def _any_module(name):
    m = _AnyModule(name)
    m.__file__ = "<stub " + name + ">"
    m.__spec__ = importlib.machinery.ModuleSpec(name, loader=None)
    m.__path__ = []
    sys.modules[name] = m
    parent, _, child = name.rpartition(".")
    if parent:
        setattr(sys.modules[parent], child, m)
    return m


def install_peft(src=None):
    """install_transformers() plus peft's source (src/peft of huggingface/peft at PEFT_COMMIT, not installed) on the
    path, with a distribution record for it (diffusers and transformers enable their PEFT backend only when
    importlib.metadata finds a peft distribution), and stand-ins for what peft imports at module level and never uses
    on the CPU LoRA path: accelerate (and its hooks / utils), psutil, a few huggingface_hub names and
    safetensors.SafetensorError. Call it INSTEAD of install_transformers(), before golden_common."""
    import importlib.metadata
    import os
    src = src or os.environ.get("PEFT_SRC", PEFT_SRC)
    init = os.path.join(src, "peft", "__init__.py")
    if not os.path.isfile(init):
        raise SystemExit(f"peft's source not found in {src}: `git archive $(cat PEFT_COMMIT) src/peft | tar -x -C "
                         f"/tmp/peft-src` from a clone of huggingface/peft, or set PEFT_SRC to its src/ folder")
    version = re.search(r'__version__\s*=\s*"([^"]+)"', open(init).read()).group(1)
    if src not in sys.path:
        sys.path.insert(0, src)

    class _PeftDistribution(importlib.metadata.Distribution):
        def read_text(self, filename):
            if filename == "METADATA":
                return f"Metadata-Version: 2.1\nName: peft\nVersion: {version}\n"
            return None

        def locate_file(self, path):
            return os.path.join(src, path)

    class _PeftDistributionFinder:
        @staticmethod
        def find_spec(*args, **kwargs):
            return None

        @staticmethod
        def find_distributions(context=importlib.metadata.DistributionFinder.Context()):
            return [_PeftDistribution()] if context.name in (None, "peft") else []

    if not any(isinstance(f, type) and f.__name__ == "_PeftDistributionFinder" for f in sys.meta_path):
        sys.meta_path.append(_PeftDistributionFinder)
    for name in ["accelerate", "accelerate.hooks", "accelerate.utils", "accelerate.utils.imports",
                 "accelerate.utils.memory", "psutil"]:
        if name not in sys.modules:
            _any_module(name)
    sys.modules["accelerate"].__version__ = "0.0.0"  # a stand-in; parsed as a version by peft
    install_transformers()  # after the distribution finder: transformers decides at import whether peft is there
    errors = sys.modules["huggingface_hub.errors"]
    for n in ["HFValidationError", "LocalEntryNotFoundError"]:
        if not hasattr(errors, n):
            setattr(errors, n, _cls(n, Exception))
    hub = sys.modules["huggingface_hub"]
    for n in ["HfFileSystem", "file_exists"]:
        if not hasattr(hub, n):
            setattr(hub, n, _unavailable(n))
    sys.modules["safetensors"].SafetensorError = _cls("SafetensorError", Exception)
    # diffusers' LoRA loader reads a file's __metadata__ through safetensors.torch.safe_open (the same reader)
    sys.modules["safetensors.torch"].safe_open = _SafeOpen
    return version

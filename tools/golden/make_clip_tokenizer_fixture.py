#!/usr/bin/env python
"""Golden reference cases for transformers' slow (pure Python) CLIPTokenizer with CLIP's real vocabulary, the way
Stable Diffusion's tokenizer/ folders configure it: SD 1.x (pad_token "<|endoftext|>") and SD 2.x (pad_token "!"),
model_max_length 77.

CLIP's vocabulary is rebuilt from the project's own merges (core/src/main/resources/dev/diffusion4j/text/
clip-bpe-merges.txt.gz, 48,894 merges without a header line) the way CLIP builds it: the 256 byte characters in
bytes_to_unicode() order, the same 256 with "</w>", one token per merge (its halves concatenated), then
"<|startoftext|>" and "<|endoftext|>": 49,408 ids. vocab.json and merges.txt (with the "#version: 0.2" first line
transformers skips) go to a temporary directory only; the fixture keeps each variant's small tokenizer_config.json and
special_tokens_map.json as transformers' save_pretrained writes them.

ftfy is not installed, so transformers takes its fallback cleaning path (recorded in the output's meta): BERT's
BasicTokenizer(strip_accents=False, do_split_on_punc=False), i.e. control characters dropped, whitespace runs made one
space, spaces put around CJK ideographs, NFC, lower case; no HTML unescaping (which CLIP's own tokenizer and the ftfy
path do). The cases record what that path gives; they are the reference for a port that claims transformers'
behaviour without ftfy.

Usage:  /tmp/venv/bin/python make_clip_tokenizer_fixture.py [OUT_DIR]   (default core/src/test/resources/golden/clip_tokenizer)

OUT_DIR gets:
  tokenizer_cases.json                  {"meta": ..., "cases": [{prompt, tokens, ids_raw, ids_sd1, ids_sd2}, ...]}
  sd1/tokenizer_config.json, sd1/special_tokens_map.json   as save_pretrained writes them (no vocab/merges)
  sd2/tokenizer_config.json, sd2/special_tokens_map.json
"""
import gzip
import json
import os
import shutil
import sys
import tempfile

import hf_stubs

hf_stubs.install_transformers()  # before golden_common, which imports diffusers

import golden_common as common  # noqa: E402
import transformers  # noqa: E402
from transformers import CLIPTokenizer  # noqa: E402
from transformers.models.clip.tokenization_clip import bytes_to_unicode  # noqa: E402

MERGES_GZ = os.path.join(common.HERE, "..", "..", "core", "src", "main", "resources", "dev", "diffusion4j", "text",
                         "clip-bpe-merges.txt.gz")
BOS, EOS = "<|startoftext|>", "<|endoftext|>"
VARIANTS = {"sd1": dict(pad_token=EOS), "sd2": dict(pad_token="!")}
SMALL_FILES = ["tokenizer_config.json", "special_tokens_map.json"]

LONG_PROMPT = (
    "a breathtaking panoramic landscape painting of an ancient castle perched on a rugged cliff above a stormy sea, "
    "dramatic clouds rolling over distant snow capped mountains, golden hour sunlight breaking through the mist, "
    "waves crashing against jagged rocks far below, a narrow winding path leading up to the heavy wooden gates, "
    "flocks of seagulls circling the tall stone towers, banners fluttering in the strong wind, lush green moss "
    "covering the weathered walls, tiny lanterns glowing in the arched windows, a lone traveler in a red cloak "
    "walking toward the castle with a wooden staff, highly detailed, intricate brushwork, oil on canvas, in the "
    "style of the romantic era masters, trending on artstation, volumetric lighting, cinematic composition, "
    "ultra sharp focus, award winning masterpiece"
)

PROMPTS = [
    "a photograph of an astronaut riding a horse",
    "A Photograph Of An ASTRONAUT, Riding a HORSE",
    "wow!!! really?! ... yes -- no;; (ok) ?!?!",
    "so cool! ! !!",
    "1girl, 8k, 1920x1080, 3.14159, 2024 version 12345",
    "it's a dog's life, don't you think? they'll say we've won, I'm sure you'd agree IT'S",
    "fish &amp; chips, &lt;b&gt;bold&lt;/b&gt; &quot;quoted&quot; &#39;single&#39; &amp;amp;",
    "café naïve résumé Zürich façade",
    "ÀÉÎÕÜ ÑANDÚ Straße ΑΒΓ αβγ Привет мир",
    "cafe\u0301 (decomposed accent) vs caf\u00e9",
    "a cat \U0001F431 with a party hat \U0001F389\U0001F44D\U0001F3FD and a flag \U0001F1EF\U0001F1F5",
    "东京的夜景, 一只猫 猫がいる 고양이",
    "   leading and trailing spaces   ",
    "line one\nline two\ttabbed\r\nthree\u00a0non-breaking\u200bzero-width",
    "bell\x07char nul\x00char \ufffd replacement",
    "(masterpiece:1.2), [blurry], {best quality}, ((detailed)), <lora:foo_bar:0.8>, embedding:easynegative",
    "e-mail user@example.com https://example.com/a_b?c=d#e under_score snake_case camelCase",
    "$100 50% #hashtag @mention ~tilde `backtick` ^caret |pipe\\backslash",
    "\u216b \u00bd \u00b2 \u2460 \uff26\uff35\uff2c\uff2c\uff37\uff29\uff24\uff34\uff28 \ufb01nance",
    f"{BOS}literal special tokens{EOS} inside a prompt",
    " ".join(["cat"] * 75),  # exactly 75 tokens: with start and end, 77 without padding
    " ".join(["cat"] * 76),  # one too many: truncation drops the last word, keeps the end token
    LONG_PROMPT,
    "",
    " ",
]


def clip_vocab_and_merges(merges):
    """CLIP's vocabulary (token -> id) from its merges (list of (a, b)), the way CLIP's SimpleTokenizer builds it."""
    byte_chars = list(bytes_to_unicode().values())
    tokens = byte_chars + [c + "</w>" for c in byte_chars] + ["".join(m) for m in merges] + [BOS, EOS]
    vocab = {t: i for i, t in enumerate(tokens)}
    assert len(vocab) == len(tokens), "duplicate token"
    return vocab


def write_bpe_files(directory, merges):
    """vocab.json and merges.txt as transformers' CLIPTokenizer reads them (merges.txt's first line is skipped)."""
    vocab = clip_vocab_and_merges(merges)
    with open(os.path.join(directory, "vocab.json"), "w", encoding="utf-8") as f:
        f.write(json.dumps(vocab, indent=2, sort_keys=True, ensure_ascii=False) + "\n")
    with open(os.path.join(directory, "merges.txt"), "w", encoding="utf-8") as f:
        f.write("#version: 0.2\n")
        for a, b in merges:
            f.write(f"{a} {b}\n")
    return vocab


def shipped_merges():
    with gzip.open(MERGES_GZ, "rt", encoding="utf-8") as f:
        lines = f.read().rstrip("\n").split("\n")
    assert not lines[0].startswith("#"), "the shipped merges have no header line"
    return [tuple(line.split(" ")) for line in lines]


def cleaning_path(tok):
    if tok.fix_text is not None:
        return "ftfy.fix_text, whitespace_clean, lower()"
    nlp = tok.nlp
    return (f"ftfy absent: transformers' BasicTokenizer(do_lower_case={nlp.do_lower_case}, "
            f"strip_accents={nlp.strip_accents}, do_split_on_punc={nlp.do_split_on_punc}, "
            f"tokenize_chinese_chars={nlp.tokenize_chinese_chars}): drops U+0000, U+FFFD and control characters "
            f"(tab, newline and carriage return count as whitespace), maps whitespace to a space, puts spaces around "
            f"CJK ideographs, NFC-normalises, splits on whitespace, lowercases, joins with one space; then CLIP's "
            f"regex and byte-level BPE. No HTML unescaping, no ftfy repairs.")


def main():
    out = common.fixture_root("clip_tokenizer")
    merges = shipped_merges()
    tmp = tempfile.mkdtemp(prefix="clip_vocab_")
    try:
        vocab = write_bpe_files(tmp, merges)
        assert len(vocab) == 49408 and vocab[EOS] == 49407 and vocab[BOS] == 49406, len(vocab)
        toks = {}
        for name, kw in VARIANTS.items():
            tok = CLIPTokenizer(os.path.join(tmp, "vocab.json"), os.path.join(tmp, "merges.txt"),
                                model_max_length=77, **kw)
            save = os.path.join(tmp, "save_" + name)
            tok.save_pretrained(save)
            os.makedirs(os.path.join(out, name), exist_ok=True)
            for f in SMALL_FILES:
                shutil.copyfile(os.path.join(save, f), os.path.join(out, name, f))
            # what a user's tokenizer/ folder gives: reload through from_pretrained
            toks[name] = CLIPTokenizer.from_pretrained(save)
            saved_files = sorted(os.listdir(save))
    finally:
        shutil.rmtree(tmp)

    sd1, sd2 = toks["sd1"], toks["sd2"]
    cases = []
    for prompt in PROMPTS:
        cases.append({
            "prompt": prompt,
            "tokens": sd1.tokenize(prompt),
            "tokens_sd2": sd2.tokenize(prompt),
            "ids_raw": sd1(prompt, add_special_tokens=True).input_ids,
            "ids_raw_sd2": sd2(prompt, add_special_tokens=True).input_ids,
            "ids_sd1": sd1(prompt, padding="max_length", max_length=77, truncation=True).input_ids,
            "ids_sd2": sd2(prompt, padding="max_length", max_length=77, truncation=True).input_ids,
        })
    for c in cases:
        assert len(c["ids_sd1"]) == 77 and len(c["ids_sd2"]) == 77
    differ_raw = [i for i, c in enumerate(cases) if c["ids_raw"] != c["ids_raw_sd2"]]
    for c in cases:  # keep the SD 2.x raw entries only where they differ from SD 1.x's
        if c["ids_raw"] == c["ids_raw_sd2"]:
            del c["ids_raw_sd2"]
        if c["tokens"] == c["tokens_sd2"]:
            del c["tokens_sd2"]

    meta = {
        "transformers_version": transformers.__version__,
        "transformers_source": "transformers-4.57.6-py3-none-any.whl, extracted",
        "tokenizer_class": type(sd1).__name__ + " (slow, pure Python; tokenizers is not installed)",
        "ftfy": "absent" if sd1.fix_text is None else "present",
        "cleaning_path": cleaning_path(sd1),
        "vocab": {"source": "core/src/main/resources/dev/diffusion4j/text/clip-bpe-merges.txt.gz",
                  "merges": len(merges), "size": len(vocab), "bos_id": vocab[BOS], "eos_id": vocab[EOS],
                  "sha256_merges_gz": common.sha256(MERGES_GZ),
                  "build": "256 bytes_to_unicode chars, the same with </w>, one per merge, <|startoftext|>, "
                           "<|endoftext|>"},
        "variants": {name: {"init_kwargs": dict(kw, model_max_length=77), "pad_token": t.pad_token,
                            "pad_token_id": t.pad_token_id, "bos_token_id": t.bos_token_id,
                            "eos_token_id": t.eos_token_id, "unk_token": t.unk_token,
                            "added_tokens (split before BPE)": sorted(t.added_tokens_encoder)}
                     for (name, kw), t in zip(VARIANTS.items(), (sd1, sd2))},
        "calls": {"ids_raw": "tok(prompt, add_special_tokens=True).input_ids (no padding, no truncation)",
                  "ids_sd1 / ids_sd2": "tok(prompt, padding='max_length', max_length=77, truncation=True).input_ids",
                  "tokens": "tok.tokenize(prompt) (the BPE tokens, without start/end)",
                  "ids_raw_sd2 / tokens_sd2": "present only where the SD 2.x tokenizer differs from SD 1.x's"},
        "cases_where_raw_ids_differ_between_variants": differ_raw,
        "save_pretrained_files": saved_files,
    }
    path = os.path.join(out, "tokenizer_cases.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump({"meta": meta, "cases": cases}, f, indent=1, ensure_ascii=False)
        f.write("\n")
    size = os.path.getsize(path)
    print(f"== clip_tokenizer: {len(cases)} cases, {size} bytes; {meta['cleaning_path']}")
    print("   variants:", meta["variants"])
    print("   raw ids differ between sd1 and sd2 in cases", differ_raw)
    for c in cases:
        print(f"   {c['prompt'][:60]!r}: {len(c['ids_raw'])} ids, {c['tokens'][:12]}")


if __name__ == "__main__":
    sys.exit(main())

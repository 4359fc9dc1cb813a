"""Generated documents are committed and must equal what the generator writes now."""

from __future__ import annotations

import pytest

from eurasec.contribute.docs import generated
from eurasec.model.codes import CODES

from .conftest import ROOT
from .faults import FAULTS


@pytest.mark.parametrize(("path", "text"), generated(ROOT).items(), ids=lambda v: getattr(v, "name", ""))
def test_generated_document_is_up_to_date(path, text):
    assert path.read_text(encoding="utf-8") == text, f"run `python -m eurasec.contribute.docs` to refresh {path.name}"


def test_every_code_a_contributor_can_meet_is_documented_and_tested():
    documented = (ROOT / "docs/codes.md").read_text(encoding="utf-8")
    tested = {code for fault in FAULTS for code, _, _ in fault.expect}
    for code in tested:
        assert f"`{code}`" in documented
        assert code in CODES

"""A chest CT that arrives in the store is analysed once, and its findings are kept."""

from __future__ import annotations

from pathlib import Path

from vesalius.findings.persist import load_findings
from vesalius.ingest.durable import store_instance
from vesalius.pipeline.arrivals import analyse_study
from vesalius.simulate.chest_ct import ChestCTSpec, chest_ct, write_chest_ct
from vesalius.store import BlobStore, open_store, sqlite_url


def test_an_arrived_chest_ct_gets_findings_once(tmp_path: Path) -> None:
    ct = chest_ct(ChestCTSpec(shape=(60, 176, 176), noise_hu=0.0), seed=2)
    folder = tmp_path / "phantom"
    write_chest_ct(ct, folder)
    store = open_store(sqlite_url(tmp_path / "index.sqlite3"))
    blobs = BlobStore(tmp_path / "blobs")
    try:
        study = ""
        for path in sorted((folder / "ct").glob("*.dcm")):
            study = store_instance(
                path.read_bytes(), store=store, blobs=blobs
            ).header.study.study_uid
        first = analyse_study(store, blobs, study)
        again = analyse_study(store, blobs, study)  # a study announced twice after a crash
        with store.read_session() as session:
            findings = load_findings(session, study)
    finally:
        store.close()
    assert (first.routed, first.done, first.failed) == (("chest-ct",), 1, 0)
    assert (again.done, again.failed) == (0, 0)
    kinds = [f.finding_type.meaning for f in findings]
    assert kinds.count("Lung") == 2
    assert kinds.count("Coronary artery calcification") == 1
